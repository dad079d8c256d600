"""Files that leave the dashboard: xlsx (the one safe Excel writer), docx, pptx, chart images."""
