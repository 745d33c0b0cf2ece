"""Reads one mail the SMTP test server stored (a JSON line with the raw message) the way a person's tools would:
the MIME parts with Python's email package, the XLSX attachment with openpyxl. Prints JSON on stdout:
{"subject", "text", "html", "attachments": [{"filename", "content_type"}], "csv": text, "xlsx": {"sheet", "rows", "bold_header"}}.

usage: read_report_mail.py MAILBOX.jsonl INDEX
"""
import email, email.policy, io, json, sys

import openpyxl

mailbox, index = sys.argv[1], int(sys.argv[2])
with open(mailbox, encoding="utf-8") as f:
    raw = [json.loads(line) for line in f if line.strip()][index]["data"]
msg = email.message_from_string(raw, policy=email.policy.default)
out = {"subject": str(msg["subject"]), "attachments": []}
text = msg.get_body(("plain",))
html = msg.get_body(("html",))
out["text"] = text.get_content() if text else None
out["html"] = html.get_content() if html else None
for part in msg.iter_attachments():
    name = part.get_filename()
    out["attachments"].append({"filename": name, "content_type": part.get_content_type()})
    payload = part.get_payload(decode=True)
    if name.endswith(".csv"):
        out["csv"] = payload.decode("utf-8-sig")
    elif name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(payload))
        sheet = book.worksheets[0]
        out["xlsx"] = {"sheet": sheet.title, "rows": [list(r) for r in sheet.iter_rows(values_only=True)],
                       "bold_header": all(c.font.b for c in sheet[1] if c.value is not None)}
print(json.dumps(out, ensure_ascii=False))
