"""Departments (部门 / 数据来源单位): the bodies that report records and own them.

Invariants: a department is identified by its own unified social credit code; a department only ever
writes, revokes or reads the restricted data of its own records; API keys are shown once and stored hashed.
"""
