"""行政区划: the regions one platform serves (a city and its districts and counties, 市县信用一张网)."""
