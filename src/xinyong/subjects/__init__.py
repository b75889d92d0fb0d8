"""The subject register (信用主体库): who the records are about.

Kinds: 法人及非法人组织, 个体工商户, 自然人. An organisation is identified by its unified social credit
code (USCC) and may carry the five legacy codes; a natural person by the resident ID number, which is
never stored in clear: a keyed hash finds it, a ciphertext shows it to authorised roles, a masked form
is shown everywhere else. Codes are stored only in normal form; names also in a matching form.
"""
