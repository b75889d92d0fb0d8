"""Credit reports (信用报告): the public credit information report (公共信用信息报告), in its public and its
subject's own version, and the special report (专项信用报告) that replaces the "no violation" certificates
departments used to issue (发改财金〔2025〕565号).

A report is a document, generated on request from what the other domains hold (the portal's publication
rules, the subject's own records, the lists, repairs and objections), printed as PDF and as JSON. Invariants:
- every report has a number of its own, with a check character, and is registered when it is issued; the
  registry keeps who asked, for whom, of which kind and span, and the digests of what was issued, never the
  content, so that `GET /reports/verify/{number}` tells anyone holding a number whether it is genuine
  without telling them what it says;
- the PDF carries the platform's PAdES signature and the JSON a detached JWS by the same key, so that a copy
  can be checked offline; one byte changed fails both the signature and the registered digest;
- a natural person's report is asked for by that person alone (a signed-in subject account);
- the public report shows exactly what the portal shows today; the own report adds what only the subject may
  see; the special report covers a span of at most five years and names, per 领域, what it found or that it
  found nothing.
"""
