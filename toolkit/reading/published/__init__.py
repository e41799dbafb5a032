"""Published annual reports (PDF, Word, web page, text): each form is turned into a
Document (blocks of rows of cell texts, each cell knowing where it is in the file), then
read the same way as a workbook: locate.py finds the parts by the format's labels,
values.py classifies what each figure cell holds, checking validates it.

    sniff.py     which form a file is, by content
    document.py  the Document model and its grid (what locate.py reads)
    text.py      .txt (the reference report's layout) and markdown tables
    docx.py      .docx via python-docx          html.py   .html/.htm/.mht via lxml
    pdf.py       .pdf via pdfplumber            doc.py    .doc/.wps via LibreOffice
    read.py      a Document -> ReadResult (format, agency, year, figures, findings)
"""
