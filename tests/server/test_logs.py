import json
import logging

from keel.server.logs import JsonFormatter, request_id_var


def test_json_log_lines_carry_request_id_and_extras() -> None:
    token = request_id_var.set("req_test")
    try:
        record = logging.LogRecord("keel.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
        record.request_id = request_id_var.get()
        record.status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "GET /x"
    assert line["request_id"] == "req_test"
    assert line["status"] == 200
    assert line["level"] == "info"
