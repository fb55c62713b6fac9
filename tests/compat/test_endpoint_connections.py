"""The AWS endpoint's connections as a client pool uses them: one keep-alive
connection carrying calls to several services in turn, and many connections
at once.

Each connection is served on one of the server's per-core threads, which runs
DynamoDB calls itself and hands the other services' calls to the rest of the
server; these tests hold the answers to be the same as on any connection.
Requests are signed with botocore's SigV4Auth and sent over http.client so
that the test, not a client pool, decides which connection each call takes.
"""

import http.client
import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import botocore.auth
import botocore.awsrequest
import botocore.credentials


def _signed(server, service, method, path, body=b"", headers=None):
    """A request signed for `service`, as (method, path, body, headers)."""
    creds = botocore.credentials.Credentials(server.access_key, server.secret_key)
    request = botocore.awsrequest.AWSRequest(
        method=method, url=server.endpoint + path, data=body, headers=dict(headers or {})
    )
    botocore.auth.SigV4Auth(creds, service, server.region).add_auth(request)
    prepared = request.prepare()
    return method, path, prepared.body or b"", dict(prepared.headers)


def _list_tables(server):
    return _signed(
        server, "dynamodb", "POST", "/", json.dumps({"Limit": 5}).encode(),
        {"Content-Type": "application/x-amz-json-1.0",
         "X-Amz-Target": "DynamoDB_20120810.ListTables"},
    )


def _list_functions(server):
    return _signed(server, "lambda", "GET", "/2015-03-31/functions/")


def _send(conn, request):
    status, request_id, body, _ = _exchange(conn, request)
    return status, request_id, body


def _exchange(conn, request):
    """Sends one request; (status, request id, body, error type header)."""
    method, path, body, headers = request
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return (response.status, response.getheader("x-amzn-RequestId"), response.read(),
            response.getheader("x-amzn-ErrorType"))


def _tampered(request):
    """The request with the last hex digit of its signature changed."""
    method, path, body, headers = request
    auth = headers["Authorization"]
    headers = dict(headers, Authorization=auth[:-1] + ("1" if auth[-1] == "0" else "0"))
    return method, path, body, headers


def _connection(server):
    parsed = urllib.parse.urlparse(server.endpoint)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)


def test_one_connection_carries_several_services_in_turn(nimbus_server):
    conn = _connection(nimbus_server)
    try:
        ids = set()
        socket = None
        for _ in range(3):
            status, request_id, body = _send(conn, _list_tables(nimbus_server))
            assert status == 200, body
            assert "TableNames" in json.loads(body)
            ids.add(request_id)
            socket = socket or conn.sock

            status, request_id, body = _send(conn, _list_functions(nimbus_server))
            assert status == 200, body
            assert "Functions" in json.loads(body)
            ids.add(request_id)

            conn.request("GET", "/_nimbus/health")
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"status": "ok"}
        # Every call got its own id, and the one socket served all nine (http.client opens a
        # new one if the server closes it).
        assert len(ids) == 6 and None not in ids
        assert socket is not None and conn.sock is socket
    finally:
        conn.close()


def test_signature_errors_keep_their_service_shape_on_a_shared_connection(nimbus_server):
    conn = _connection(nimbus_server)
    try:
        status, _, answer = _send(conn, _tampered(_list_tables(nimbus_server)))
        assert status == 400
        assert json.loads(answer)["__type"].endswith("InvalidSignatureException")

        status, _, answer, error_type = _exchange(conn, _tampered(_list_functions(nimbus_server)))
        assert status == 403
        assert error_type == "InvalidSignatureException"
        assert json.loads(answer)["message"]

        # The connection is still usable after both refusals.
        status, _, answer = _send(conn, _list_tables(nimbus_server))
        assert status == 200, answer
    finally:
        conn.close()


def test_many_connections_at_once(nimbus_server):
    def worker(index):
        conn = _connection(nimbus_server)
        try:
            results = []
            for round_ in range(10):
                request = (_list_tables if (index + round_) % 2 else _list_functions)(nimbus_server)
                status, request_id, body = _send(conn, request)
                results.append((status, request_id))
            return results
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = [r for rs in pool.map(worker, range(12)) for r in rs]
    assert len(outcomes) == 120
    assert all(status == 200 for status, _ in outcomes), outcomes
    assert len({request_id for _, request_id in outcomes}) == 120
