"""Warnings (预警): a condition that someone must act on, sent to the people who must act.

A warning is raised by a rule (a department's 及时率 below the threshold, a repair overdue, a sudden drop of
reporting, a government body newly listed, a court's pre-listing notice). It goes to the users of the
department concerned — or to the 信用办 when no department is — through the notification outbox: into each
user's console inbox and, for users with an e-mail address, by e-mail. It stays open until a user of that
department acknowledges it (确认) or it is resolved (the condition ended, or the 信用办 closed it), and every
one of those steps is audited. The same condition raises one warning, however often the rules run (its key).
"""
