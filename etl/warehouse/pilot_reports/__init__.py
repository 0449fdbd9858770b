"""The pilot programme's reports as XLSX workbooks (按月调度, 评估验收), read from the warehouse: shared by
`ruralbrain report` and the /pilots page's export, so they live beside the warehouse's read functions."""
