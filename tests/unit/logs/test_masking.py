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


def test_encoded_and_separated_ids_are_masked() -> None:
    for text in ("q=1101%200519491231002X", "q=110105+19491231002X", "q=1101-0519-4912-3100-2X",
                 "q=%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58"):
        masked = mask_ids(text)
        assert "19491231" not in masked.replace(" ", "").replace("-", "").replace("+", ""), text


def test_other_numbers_keep_their_shape() -> None:
    text = "batch 12 rows 200000 took 3.5 s; uscc 91330521123456788J; 2026-11-22 08:00:00"
    assert mask_ids(text) == text


def test_filter_masks_arguments_in_place() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", f"/s?q={ID18}", "1.1", 200), None)  # fmt: skip
    assert MaskIdNumbers().filter(record)
    assert isinstance(record.args, tuple)
    assert len(record.args) == 5  # uvicorn's access formatter unpacks exactly these
    assert ID18 not in record.getMessage()


def test_the_access_formatter_still_formats_a_masked_record() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", f"/s?q={ID18}", "1.1", 200), None)  # fmt: skip
    MaskIdNumbers().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert ID18 not in line
    assert "1101**********002X" in line


def test_every_server_handler_and_the_root_logger_mask() -> None:
    config = uvicorn_log_config("info")
    for handler in config["handlers"].values():  # type: ignore[union-attr]
        assert handler["filters"] == ["mask_ids"]
    assert config["root"] == {"handlers": ["default"], "level": "INFO"}


FULL_WIDTH = ID18.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


def test_full_width_and_tab_split_ids_are_masked() -> None:
    for text in (f"q={FULL_WIDTH}", "q=110105\t19491231\t002X", "q=1101\u30000519\u30004912\u300031002X",
                 "q=110105\t\t19491231002X", "q=110105\u201419491231\u2013002X", "q=１１０１０５ 491231００2"):
        masked = mask_ids(text)
        assert "491231" not in masked.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}), text
        assert "*" in masked, text


def test_percent_encoded_full_width_digits_are_masked() -> None:
    from urllib.parse import quote

    line = f'"GET /search?q={quote(FULL_WIDTH)} HTTP/1.1" 200'
    assert "1101**********002X" in mask_ids(line)


def test_objects_formatted_with_s_are_masked_through_their_text() -> None:
    class Url:  # what an HTTP client passes for %s
        def __str__(self) -> str:
            return f"http://testserver/search?q={ID18}"

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s %d",
                               ("GET", Url(), 200), None)  # fmt: skip
    MaskIdNumbers().filter(record)
    assert ID18 not in record.getMessage()
    assert record.getMessage().endswith(" 200")


def test_tracebacks_are_masked() -> None:
    try:
        raise ValueError(f"bad value {ID18}")
    except ValueError:
        import sys

        record = logging.LogRecord("xinyong", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    MaskIdNumbers().filter(record)
    line = logging.Formatter().format(record)
    assert "ValueError: bad value 1101**********002X" in line
    assert ID18 not in line
