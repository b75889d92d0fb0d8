"""Subject accounts (信用主体账户): enterprises and persons signed up against their code.

Separate from staff users (`auth`): a subject account acts only for its own subject, sees that subject's
records including restricted fields, and files repair applications and objections. Sign-up proves control
of a contact address through a verification code sent by the notifier; the account becomes usable only
after that. ID numbers are never stored here (the subject register holds them protected).
"""
