"""Ways in (归集渠道) beyond files and the batch API, and what each department must report.

- 部门目录清单 (`duties`): which catalogue types each department must report and how often, kept by the 信用办;
  monitoring measures the departments against it.
- 库对接 (`pull`): a department's database table or view pulled incrementally by a watermark column, mapped to a
  catalogue type by a mapping file, through the ingestion pipeline (`records.service.import_rows`).
- 前置机 (`drop`): a watched folder per department; files placed there are imported as that department and moved
  to done/ or failed/ with the problem report beside them.
"""
