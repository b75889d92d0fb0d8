"""The public credit information catalogue (公共信用信息目录): the record types the platform may hold.

Each type is declared as data in ``types/*.toml``: its columns (national codes and Chinese headers),
what each column means to the platform (its role), its legal basis, its sensitivity and its publicity
rule. Adding a record type is a new file here, not new code. A type without a legal basis is refused.
"""

from xinyong.catalog.schema import Catalog, FieldSpec, PublicityRule, RecordType, load_catalog

__all__ = ["Catalog", "FieldSpec", "PublicityRule", "RecordType", "load_catalog"]
