"""Monthly, quarterly and yearly reports (R5.2): content from insight.metrics (content.py, lists.py), rendered
as Excel (xlsx.py) and PDF (pdf.py), stored and scheduled by services.py."""
