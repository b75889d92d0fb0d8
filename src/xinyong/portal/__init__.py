"""The public credit portal (信用门户, 信用中国-style): search, subject profiles, 双公示 listings and the
public JSON API. It shows only what `xinyong.disclosure` allows; it never lists natural persons in bulk
(they are found by exact ID number only, and are absent from the name index and listings)."""
