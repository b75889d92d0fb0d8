import logging

from xinyong.logs import MaskIdNumbers, mask_ids, uvicorn_log_config

ID18 = "11010519491231002X"
ID15 = "110105491231002"


def test_ids_are_masked_in_text() -> None:
    line = f'127.0.0.1:5000 - "GET /api/v1/subjects?q={ID18} HTTP/1.1" 200'
    masked = mask_ids(line)
    assert ID18 not in masked
    assert "1101**********002X" in masked
    assert ID15 not in mask_ids(f"q={ID15}&page=2")


def test_other_numbers_keep_their_shape() -> None:
    text = "batch 12 rows 200000 took 3.5 s; uscc 91330521123456788J; 2026-11-22 08:00:00"
    assert mask_ids(text) == text


def test_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s %s", ("GET", f"/s?q={ID18}"), None)
    assert MaskIdNumbers().filter(record)
    assert ID18 not in record.getMessage()


def test_every_server_handler_masks() -> None:
    config = uvicorn_log_config("info")
    assert config["handlers"]
    for handler in config["handlers"].values():  # type: ignore[union-attr]
        assert handler["filters"] == ["mask_ids"]
