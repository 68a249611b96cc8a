"""Policy changes: rule sets staged, previewed, approved by four eyes, activated on their date."""
