"""Nimbus runtime for the python3.x managed runtimes.

Started by ``bootstrap.py`` (``python3 bootstrap.py``) inside an execution
environment, which imports this module so that its bytecode is cached. It
speaks the Lambda Runtime API at ``AWS_LAMBDA_RUNTIME_API``, loads the handler
named by ``_HANDLER`` (``path/to/module.function``) from the task root and
serves invocations one at a time, as the AWS Python runtime does:

* handler import follows AWS: the module part is everything before the last
  dot, with ``/`` turned into ``.`` (``src/handlers/get_all.handler`` imports
  ``src.handlers.get_all``); failures are posted to ``/runtime/init/error``
  with AWS's error types (``Runtime.ImportModuleError``,
  ``Runtime.HandlerNotFound``, ``Runtime.MalformedHandlerName``,
  ``Runtime.UserCodeSyntaxError``, ``Runtime.BuiltInModuleConflict``) and the
  process exits 1;
* results are JSON-encoded (``bytes`` are sent as they are); ``Decimal`` is
  written as a JSON number, as AWS's encoder does; anything else that is not
  serializable is a ``Runtime.MarshalError``;
* exceptions become ``{"errorMessage", "errorType", "requestId",
  "stackTrace"}`` and are logged to stdout the way AWS logs them;
* the ``logging`` root logger gets AWS's handler and format
  (``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``, or JSON when
  ``AWS_LAMBDA_LOG_FORMAT=JSON``), honouring ``AWS_LAMBDA_LOG_LEVEL``.

Everything up to the first response is on the cold-start path, so this module
imports only what the interpreter has already loaded and two C modules of the
standard library (``_socket``, ``_json``). ``socket``, ``json`` or
``http.client`` would each cost more than all the rest of its start-up, on a
plain installation more than the interpreter's own start:

* the Runtime API client is a small HTTP/1.1 keep-alive client over
  ``_socket`` (``socket`` pulls in ``selectors`` and ``enum``, ``http.client``
  the ``email`` package);
* JSON goes through the standard library's own C accelerator ``_json``, the
  code ``json.loads``/``json.dumps`` themselves run, without the ``json``
  package around it (which imports ``re``); input it does not take as it is
  falls back to ``json``, so results and error messages are the same;
* ``logging`` is configured when user code first imports it, ``traceback``
  and ``base64`` are imported when an error or an encoded header needs them.
"""

import _socket
import io
import os
import sys
import time

_API_PREFIX = "/2018-06-01/runtime"
_USER_AGENT = "nimbus-python/%d.%d.%d" % sys.version_info[:3]

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_LOG_LEVEL = {"TRACE": "DEBUG"}.get(
    (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper(),
    (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper(),
)

# The request id of the invocation in progress ("" between invocations);
# read by the logging filter.
_current_request_id = ""
_current_tenant_id = None


class FaultException(Exception):
    """A failure the runtime reports with one of its own error types."""

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


# --------------------------------------------------------------------------
# Runtime API client


class RuntimeApiError(Exception):
    pass


_SAFE_PATH_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
)


def _quote_path_segment(value):
    if all(c in _SAFE_PATH_CHARS for c in value):
        return value
    return "".join(
        c if c in _SAFE_PATH_CHARS else "".join("%%%02X" % b for b in c.encode("utf-8"))
        for c in value
    )


def _header_value(value):
    # Header values must be single-line latin-1; error types are ASCII in
    # practice, anything else is replaced rather than breaking the request.
    value = str(value).replace("\r", " ").replace("\n", " ")
    return value.encode("latin-1", "replace").decode("latin-1")


class RuntimeClient(object):
    """A minimal HTTP/1.1 client for the Runtime API: one persistent
    connection, no timeouts (``next`` blocks until there is an event).

    Hand-written because it is on the cold-start path: ``http.client`` (or
    ``urllib``) would import the ``email`` package and ``socket``, several
    times the cost of this whole module. The Runtime API is a loopback
    HTTP/1.1 server, so this needs only requests with ``Content-Length``,
    responses with ``Content-Length``, chunked or close-delimited bodies,
    keep-alive, and one retry on a fresh connection when the server closed
    an idle one."""

    def __init__(self, address):
        host, sep, port = address.rpartition(":")
        if not sep:
            host, port = address, "80"
        self.host_header = address
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self.sock = None
        self.rfile = None

    def close(self):
        if self.rfile is not None:
            try:
                self.rfile.close()
            except OSError:
                pass
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.rfile = None

    def _connect(self):
        sock = None
        # An address literal (the usual case) is connected directly: a name
        # lookup needs the `socket` module (and the idna codec).
        for family in (_socket.AF_INET, _socket.AF_INET6):
            try:
                _socket.inet_pton(family, self.host)
            except (OSError, ValueError):
                continue
            sock = _socket.socket(family, _socket.SOCK_STREAM)
            try:
                sock.connect((self.host, self.port))
            except OSError:
                sock.close()
                raise
            break
        if sock is None:
            import socket

            sock = socket.create_connection((self.host, self.port))
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sock = sock
        self.rfile = io.BufferedReader(_SocketReader(sock), 65536)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers with lower-case names, body bytes)."""
        lines = [
            "%s %s HTTP/1.1" % (method, path),
            "Host: " + self.host_header,
            "User-Agent: " + _USER_AGENT,
        ]
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        if headers:
            for name, value in headers.items():
                lines.append("%s: %s" % (name, _header_value(value)))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body:
            data += body
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._read_response(method)
            except (ConnectionError, _EmptyResponse):
                # The server may close an idle keep-alive connection; the
                # request never reached it, so it is safe to send it again
                # on a fresh connection, once.
                self.close()
                if attempt or not reused:
                    raise
        raise RuntimeApiError("unreachable")

    def _read_response(self, method):
        rfile = self.rfile
        line = rfile.readline(65537)
        if not line:
            raise _EmptyResponse()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            self.close()
            raise RuntimeApiError("malformed status line from the Runtime API: %r" % line)
        version, status = parts[0], int(parts[1])
        headers = {}
        while True:
            line = rfile.readline(65537)
            if not line:
                self.close()
                raise RuntimeApiError("connection closed inside response headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = (version != "HTTP/1.0" and connection != "close") or (
            connection == "keep-alive"
        )
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            length = int(headers["content-length"])
            body = rfile.read(length) if length else b""
            if len(body) != length:
                self.close()
                raise RuntimeApiError("connection closed inside response body")
        else:
            body = rfile.read()
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, headers, body

    def _read_chunked(self):
        rfile = self.rfile
        chunks = []
        while True:
            size_line = rfile.readline(65537)
            if not size_line:
                raise RuntimeApiError("connection closed inside chunked body")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers
                    line = rfile.readline(65537)
                    if not line or line in (b"\r\n", b"\n"):
                        break
                return b"".join(chunks)
            chunks.append(rfile.read(size))
            rfile.readline(65537)

    def next_invocation(self):
        status, headers, body = self.request("GET", _API_PREFIX + "/invocation/next")
        if status != 200:
            raise RuntimeApiError(
                "GET /invocation/next answered %d: %s"
                % (status, body.decode("utf-8", "replace"))
            )
        return headers, body

    def post_response(self, request_id, body, content_type):
        path = "%s/invocation/%s/response" % (_API_PREFIX, _quote_path_segment(request_id))
        return self._post(path, body, {"Content-Type": content_type})

    def post_error(self, request_id, error):
        path = "%s/invocation/%s/error" % (_API_PREFIX, _quote_path_segment(request_id))
        return self._post_error(path, error)

    def post_init_error(self, error):
        return self._post_error(_API_PREFIX + "/init/error", error)

    def _post_error(self, path, error):
        body = _to_json(error).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Function-Error-Type": error.get("errorType") or "Unhandled",
        }
        return self._post(path, body, headers)

    def _post(self, path, body, headers):
        status, _, answer = self.request("POST", path, body, headers)
        if status != 202:
            _stderr(
                "nimbus runtime: POST %s answered %d: %s"
                % (path, status, answer.decode("utf-8", "replace"))
            )
        return status


class _EmptyResponse(Exception):
    pass


class _SocketReader(io.RawIOBase):
    """The raw stream under the client's buffered reader (what
    ``socket.makefile`` would build, without importing ``socket``)."""

    def __init__(self, sock):
        io.RawIOBase.__init__(self)
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._sock.recv_into(buffer)


def _stderr(message):
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except Exception:
        pass


# --------------------------------------------------------------------------
# JSON
#
# `json.loads` and `json.dumps` do their work in the C scanner and encoder of
# `_json`; the two functions below call those the way the json package does,
# with its default settings, without importing the package (which imports
# `re`). Whatever the fast path does not take as it is (bytes that are not
# plain UTF-8, a document it cannot scan, an interpreter whose `_json` does
# not pass the check below) goes to `json` itself, so results and error
# messages are json's.


class _ScannerContext(object):
    """The attributes `_json.make_scanner` reads from a `json.JSONDecoder`,
    with the decoder's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {
        "-Infinity": float("-inf"),
        "Infinity": float("inf"),
        "NaN": float("nan"),
    }.__getitem__


def _not_serializable(obj):
    raise TypeError("Object of type %s is not JSON serializable" % obj.__class__.__name__)


def _c_json():
    """(scan_once, make_encoder, encode_ascii, encode_unicode), or None when
    this interpreter's `_json` is not what the json package expects."""
    try:
        import _json

        scan_once = _json.make_scanner(_ScannerContext())
        # The arguments JSONEncoder.iterencode passes; checked on a sample.
        encode = _json.make_encoder(
            {}, _not_serializable, _json.encode_basestring_ascii, None, ": ", ", ",
            False, False, True,
        )
        if (
            scan_once('{"a": [1, 2.5, "\\u00e9", null]}', 0)
            != ({"a": [1, 2.5, "\u00e9", None]}, 31)
            or "".join(encode({"a": [1, 2.5, "\u00e9", None, True]}, 0))
            != '{"a": [1, 2.5, "\\u00e9", null, true]}'
        ):
            return None
        return (
            scan_once,
            _json.make_encoder,
            _json.encode_basestring_ascii,
            _json.encode_basestring,
        )
    except Exception:
        return None


_C_JSON = _c_json()
_JSON_WHITESPACE = " \t\n\r"


def _json_loads(data):
    """`json.loads(data)`."""
    if _C_JSON is not None:
        try:
            if isinstance(data, (bytes, bytearray)):
                text = data.decode("utf-8")
            else:
                text = data
            if isinstance(text, str):
                start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
                obj, end = _C_JSON[0](text, start)
                if end == len(text.rstrip(_JSON_WHITESPACE)):
                    return obj
        except Exception:
            pass
    import json

    return json.loads(data)


def _json_dumps(obj, default=None, ensure_ascii=True):
    """`json.dumps(obj, default=default, ensure_ascii=ensure_ascii)`."""
    if _C_JSON is None:
        import json

        return json.dumps(obj, default=default, ensure_ascii=ensure_ascii)
    _, make_encoder, encode_ascii, encode_unicode = _C_JSON
    encode_string = encode_ascii if ensure_ascii else encode_unicode
    if isinstance(obj, str):
        return encode_string(obj)
    encode = make_encoder(
        {}, default or _not_serializable, encode_string, None, ": ", ", ", False, False, True
    )
    return "".join(encode(obj, 0))


def _to_json(obj):
    return _json_dumps(obj)


_ENSURE_ASCII = sys.version_info < (3, 12)
_DECIMAL_TAG = "\x00nimbus-decimal-" + os.urandom(6).hex() + ":"


def marshal_response(response):
    """Encodes a handler result as AWS's Python runtime does: bytes as they
    are, everything else as JSON with Decimal written as a number."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    decimals = []

    def default(obj):
        # The handler can only have produced a Decimal if it imported the
        # module, so the bootstrap never pays for importing it.
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return float("nan")
            decimals.append(str(obj))
            return "%s%d\x00" % (_DECIMAL_TAG, len(decimals) - 1)
        raise TypeError(
            "Object of type %s is not JSON serializable" % type(obj).__name__
        )

    try:
        text = _json_dumps(response, default=default, ensure_ascii=_ENSURE_ASCII)
    except Exception as e:
        raise FaultException(MARSHAL_ERROR, "Unable to marshal response: %s" % e, None)
    if decimals:
        tag = _json_dumps(_DECIMAL_TAG)[:-1]  # the opening quote, escaped tag
        for i, raw in enumerate(decimals):
            text = text.replace("%s%d\\u0000\"" % (tag, i), raw, 1)
    return text.encode("utf-8"), "application/json"


def unmarshal_event(body, content_type):
    if content_type and not content_type.lower().startswith("application/json"):
        return body
    try:
        return _json_loads(body)
    except Exception as e:
        raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e, None)


# --------------------------------------------------------------------------
# Context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return (
            "Client([installation_id=%s,app_title=%s,app_version_name=%s,"
            "app_version_code=%s,app_package_name=%s])"
            % (
                self.installation_id,
                self.app_title,
                self.app_version_name,
                self.app_version_code,
                self.app_package_name,
            )
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (
            self.custom,
            self.env,
            self.client,
        )


def _object_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field) if isinstance(values, dict) else None)
    return obj


class LambdaContext(object):
    """The context argument, with the attributes and methods AWS documents."""

    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as on AWS (the value comes from the environment).
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = _object_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _object_from_dict(Client, self.client_context.client)

        identity = CognitoIdentity()
        identity.cognito_identity_id = None
        identity.cognito_identity_pool_id = None
        if isinstance(cognito_identity, dict):
            identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self.identity = identity

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, name):
    if not value:
        return None
    try:
        # Header values are read as latin-1, byte for byte; the JSON text in
        # them is UTF-8.
        return _json_loads(value.encode("latin-1"))
    except Exception as first:
        # The Runtime API carries the client context as JSON text; accept the
        # base64 form the Invoke API uses as well.
        try:
            import base64

            return _json_loads(base64.b64decode(value, validate=True))
        except Exception:
            raise FaultException(
                LAMBDA_CONTEXT_UNMARSHAL_ERROR,
                "Unable to parse %s JSON: %s" % (name, first),
                None,
            )


# --------------------------------------------------------------------------
# Logging


class _Unbuffered(object):
    """Wraps a text stream so that every write reaches the file descriptor
    at once, as on AWS (log lines interleave in order with the platform's)."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _configure_logging(logging):
    """Installs AWS's root handler on the `logging` module."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _current_request_id
            record.tenant_id = _current_tenant_id
            return True

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                msg = self.format(record)
                sys.stdout.write(msg)
            except Exception:
                self.handleError(record)

    handler = LambdaLoggerHandler()
    if _LOG_FORMAT_JSON:
        handler.setFormatter(_json_formatter(logging))
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    if _LOG_LEVEL in logging._nameToLevel:
        root.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    root.addHandler(handler)


_RESERVED_LOG_FIELDS = frozenset(
    [
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename",
        "module", "exc_info", "exc_text", "stack_info", "lineno", "funcName",
        "created", "msecs", "relativeCreated", "thread", "threadName",
        "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
        "taskName",
    ]
)


def _json_formatter(logging):
    import json

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            import traceback

            level = min(50, max(0, record.levelno)) // 10 * 10
            created = time.gmtime(record.created)
            result = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", created)
                + ".%03dZ" % int(record.msecs),
                "level": logging.getLevelName(level),
                "message": record.getMessage(),
                "logger": record.name,
            }
            if record.exc_info:
                result["stackTrace"] = traceback.format_tb(record.exc_info[2])
                result["errorType"] = record.exc_info[0].__name__
                result["errorMessage"] = str(record.exc_info[1])
            result["requestId"] = getattr(record, "aws_request_id", None)
            if record.exc_info:
                result["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            for key, value in record.__dict__.items():
                if key not in _RESERVED_LOG_FIELDS and key not in result:
                    result[key] = value
            result = {k: v for k, v in result.items() if v is not None}
            return json.dumps(result, ensure_ascii=False, default=str) + "\n"

    return JsonFormatter()


class _LoggingImportHook(object):
    """A meta-path finder that configures `logging` right after the first
    import of it, so that functions which never log never pay for it."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_configure(module):
            exec_module(module)
            _configure_logging(module)

        spec.loader.exec_module = exec_and_configure
        return spec


def _install_logging():
    if "logging" in sys.modules:
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


def _log_error(error):
    """Writes an error as AWS's runtime writes it to the log."""
    if _LOG_FORMAT_JSON:
        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": "ERROR",
        }
        record.update(error)
        sys.stdout.write(_json_dumps(record) + "\n")
        return
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    trace = error.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


# --------------------------------------------------------------------------
# Handler loading and invocation


def _str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s object>" % type(value).__name__


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frames(tb):
    import traceback

    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if not os.path.abspath(frame.filename).startswith(_RUNTIME_DIR):
            return traceback.format_list(frames[i:])
    return traceback.format_list(frames)


def _import_module(name):
    """`importlib.import_module(name)` for an absolute name, without importing
    importlib: both end in the same `_gcd_import` and return the module that
    `sys.modules` holds."""
    if not name or name.startswith("."):
        import importlib

        return importlib.import_module(name)
    __import__(name)
    return sys.modules[name]


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module %s as a handler module" % modname,
            )
        module = _import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '%s': %s" % (modname, e),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname)
        )


def handle_invocation(client, request_handler, headers, body):
    global _current_request_id, _current_tenant_id
    invoke_id = headers.get("lambda-runtime-aws-request-id", "")
    tenant_id = headers.get("lambda-runtime-aws-tenant-id")
    _current_request_id = invoke_id
    _current_tenant_id = tenant_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    error = None
    try:
        try:
            deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)
        except ValueError:
            deadline = 0
        context = LambdaContext(
            invoke_id,
            _parse_json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
            _parse_json_header(headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"),
            deadline,
            headers.get("lambda-runtime-invoked-function-arn"),
            tenant_id,
        )
        event = unmarshal_event(body, headers.get("content-type"))
        response = request_handler(event, context)
        result, content_type = marshal_response(response)
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        error = make_error(_str(value), etype.__name__, _user_frames(tb), invoke_id)
        del tb

    if error is not None:
        _log_error(error)
        _flush()
        client.post_error(invoke_id, error)
    else:
        _flush()
        client.post_response(invoke_id, result, content_type)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def main():
    # User code resolves against the task root first, as on AWS.
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        _stderr("nimbus runtime: AWS_LAMBDA_RUNTIME_API is not set")
        sys.exit(1)
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    client = RuntimeClient(address)
    _install_logging()

    try:
        request_handler = get_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        if isinstance(e, FaultException):
            error = make_error(e.msg, e.exception_type, e.trace)
        else:
            etype, value, tb = sys.exc_info()
            error = make_error(_str(value), etype.__name__, _user_frames(tb))
            del tb
        _log_error(error)
        _flush()
        client.post_init_error(error)
        sys.exit(1)

    while True:
        try:
            headers, body = client.next_invocation()
        except (OSError, RuntimeApiError) as e:
            _stderr("nimbus runtime: waiting for the next invocation failed: %s" % e)
            sys.exit(1)
        handle_invocation(client, request_handler, headers, body)


