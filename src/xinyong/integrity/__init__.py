"""Government integrity (政务诚信): government bodies' own dishonesty, watched until it is cleared.

Government bodies are subjects like any other, told apart by their code: the USCC's registering-authority and
category pair (机构编制 11 机关, 12 事业单位, 13 群团, 19 其他, and whatever `integrity.toml` adds). Their cases —
失信被执行人 (a court listing, taken from the list entries of the configured list types), 拖欠账款 (arrears to
enterprises) and 违背承诺 — go on a board with their age, the supervising body responsible and the date by
which each must be cleared (清零). A court's pre-listing notice can be entered before the listing, and the
supervising body is warned at once (the national practice: courts tell the credit office 5 working days ahead).

公务员诚信档案 (civil servants' integrity files) are restricted records about natural persons: only the role
made for them may read or write them (not even the platform administrator), every look-up needs a reason
and is written to the audit trail, and ID numbers are kept sealed, shown masked.
"""
