// Nimbus bootstrap for the nodejs* managed runtimes.
//
// Run as `node bootstrap.cjs` inside an execution environment. It speaks the
// Lambda Runtime API at AWS_LAMBDA_RUNTIME_API, loads the handler named by
// _HANDLER (`path/file.export[.nested]`) from the task root and serves
// invocations one at a time with the semantics of AWS's Node.js runtime:
//
// - module resolution as AWS does it: an extensionless file or `file.js` by
//   require() unless the nearest package.json says "type": "module"; then
//   `.js` (ESM case) and `.mjs` by import(), `.cjs` by require(); finally
//   require.resolve() from the task root (node_modules, NODE_PATH);
// - async and promise-returning handlers answer when the promise settles;
//   callback handlers answer when the callback is called and, while
//   context.callbackWaitsForEmptyEventLoop is true (the default), once the
//   event loop has nothing else to do; context.succeed/fail/done answer at
//   once; a non-async handler that never calls back answers null when the
//   loop empties;
// - errors are posted as {errorType, errorMessage, trace}; loading failures
//   go to /runtime/init/error as Runtime.ImportModuleError,
//   Runtime.HandlerNotFound, Runtime.MalformedHandlerName or
//   Runtime.UserCodeSyntaxError; an uncaught exception or unhandled rejection
//   fails the invocation in progress (Runtime.UnhandledPromiseRejection for
//   rejections) and ends the process, as on AWS;
// - console.* writes `<ISO time>\t<request id>\t<LEVEL>\t<message>` lines
//   (JSON lines when AWS_LAMBDA_LOG_FORMAT=JSON), filtered by
//   AWS_LAMBDA_LOG_LEVEL.
//
// The AWS SDK for JavaScript that Nimbus installs is reached like any package:
// Node resolves bare specifiers through node_modules directories of the
// importing module's ancestors (Nimbus links the SDK there), for require and
// import alike.
//
// Everything up to the first response is on the cold-start path, so this is
// a CommonJS script: an ES module entry point starts Node's ES module loader
// even for CommonJS handlers, and importing a built-in module as an ES module
// evaluates all its lazily loaded parts (fs.promises, streams, readline...);
// together several milliseconds. ES module handlers still start the loader,
// through import(), and only then. The connection to the Runtime API is
// opened before the handler loads, so that it is ready when `next` is sent.

'use strict';

const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const USER_AGENT = `nimbus-node/${process.versions.node}`;

// ---------------------------------------------------------------------------
// Errors

function runtimeError(name, message, stack) {
  const err = new Error(message);
  err.name = `Runtime.${name}`;
  if (stack !== undefined) err.stack = stack;
  return err;
}

function isErrorLike(obj) {
  return (
    obj &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

// The body of an error post, as AWS's runtime builds it.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return {
      errorType: typeof error,
      errorMessage: String(error),
      trace: [],
    };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// The error as it is written to the log: a tab, then JSON with the
// non-enumerable properties made visible.
function toFormatted(error) {
  const withProps = (_k, v) => {
    if (v instanceof Error) {
      const ret = Object.assign(
        { errorType: v.name, errorMessage: v.message, code: v.code },
        v,
      );
      if (typeof v.stack === 'string') ret.stack = v.stack.split('\n');
      return ret;
    }
    return v;
  };
  try {
    return '\t' + JSON.stringify(error, withProps);
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// ---------------------------------------------------------------------------
// Logging

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});
const LOG_JSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function jsonErrorReplacer(_k, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonLine(requestId, time, level, params) {
  const result = { timestamp: time, level: level.name, requestId };
  if (params.length === 1) {
    result.message = params[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...params);
  for (const param of params) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function writeLog(level, params) {
  const time = new Date().toISOString();
  const requestId = globalThis[REQUEST_ID];
  const line = LOG_JSON
    ? formatJsonLine(requestId, time, level, params)
    : `${time}\t${requestId}\t${level.name}\t${util.format(...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const threshold =
    LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] ?? LEVELS.TRACE;
  const nop = () => {};
  const logger = (level) =>
    level.priority >= threshold.priority ? (...params) => writeLog(level, params) : nop;
  console.trace = logger(LEVELS.TRACE);
  console.debug = logger(LEVELS.DEBUG);
  console.info = logger(LEVELS.INFO);
  console.log = console.info;
  console.warn = logger(LEVELS.WARN);
  console.error = logger(LEVELS.ERROR);
  console.fatal = (...params) => writeLog(LEVELS.FATAL, params);
}

function logError(label, err) {
  if (LOG_JSON) console.error(intoError(err));
  else console.error(label, toFormatted(intoError(err)));
}

// ---------------------------------------------------------------------------
// Runtime API client
//
// A small HTTP/1.1 client over node:net rather than node:http: it is on the
// cold-start path, and the first request through node:http (agent, parser,
// outgoing message machinery, run for the first time) took longer than the
// rest of the start-up. The Runtime API is a loopback HTTP/1.1 server, so this
// needs only: one keep-alive connection, requests with Content-Length,
// responses delimited by Content-Length, chunked encoding or the connection's
// end, and one retry on a fresh connection when the server closed an idle one.
// Requests are sent one at a time, in order. As node:http's agent does, the
// connection does not keep the event loop alive while no request is pending,
// so that `beforeExit` still tells when a handler's work is done.

class ResponseParser {
  constructor() {
    this.buffered = [];
    this.size = 0;
    this.head = null; // { status, headers, framing, length }
    this.chunks = [];
    this.chunkLeft = -1; // size of the chunk being read; -1: at a size line; -2: in trailers
  }

  // Returns a response once complete, else undefined; throws on bad input.
  push(data) {
    this.buffered.push(data);
    this.size += data.length;
    return this.parse(false);
  }

  // The connection ended: completes a close-delimited body.
  end() {
    return this.parse(true);
  }

  take(n) {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.size = rest.length;
    return taken;
  }

  // The offset just past the next "\r\n", or -1.
  lineEnd() {
    if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
    const at = this.buffered.length ? this.buffered[0].indexOf('\r\n') : -1;
    return at < 0 ? -1 : at + 2;
  }

  parse(ended) {
    if (this.head === null) {
      if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
      const end = this.buffered.length ? this.buffered[0].indexOf('\r\n\r\n') : -1;
      if (end < 0) {
        if (ended) throw new Error('the Runtime API closed the connection before answering');
        return undefined;
      }
      const lines = this.take(end + 4).toString('latin1').split('\r\n');
      const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
      if (!statusLine) throw new Error(`malformed status line from the Runtime API: ${lines[0]}`);
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) {
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
      }
      const connection = (headers.connection || '').toLowerCase();
      const head = {
        status: Number(statusLine[2]),
        headers,
        keepAlive: statusLine[1] === '1' ? connection !== 'close' : connection === 'keep-alive',
        framing: 'close',
        length: 0,
      };
      if (head.status === 204 || head.status === 304 || head.status < 200) {
        head.framing = 'length';
      } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
        head.framing = 'chunked';
      } else if (headers['content-length'] !== undefined) {
        head.framing = 'length';
        head.length = Number(headers['content-length']);
        if (!Number.isSafeInteger(head.length) || head.length < 0) {
          throw new Error(`bad Content-Length from the Runtime API: ${headers['content-length']}`);
        }
      } else {
        head.keepAlive = false;
      }
      this.head = head;
    }
    const head = this.head;
    if (head.framing === 'length') {
      if (this.size < head.length) {
        if (ended) throw new Error('the Runtime API closed the connection inside a response');
        return undefined;
      }
      return this.done(this.take(head.length));
    }
    if (head.framing === 'close') {
      return ended ? this.done(this.take(this.size)) : undefined;
    }
    for (;;) {
      if (this.chunkLeft === -1) {
        const end = this.lineEnd();
        if (end < 0) break;
        const size = parseInt(this.take(end).toString('latin1').split(';')[0].trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) {
          throw new Error('bad chunk size from the Runtime API');
        }
        this.chunkLeft = size === 0 ? -2 : size; // -2: trailers follow
      }
      if (this.chunkLeft === -2) {
        // Trailers, up to an empty line.
        const end = this.lineEnd();
        if (end < 0) break;
        if (end === 2) {
          this.take(2);
          return this.done(Buffer.concat(this.chunks));
        }
        this.take(end);
        continue;
      }
      if (this.size < this.chunkLeft + 2) break;
      this.chunks.push(this.take(this.chunkLeft));
      this.take(2);
      this.chunkLeft = -1;
    }
    if (ended) throw new Error('the Runtime API closed the connection inside a chunked response');
    return undefined;
  }

  done(body) {
    const { status, headers, keepAlive } = this.head;
    return { status, headers, body, keepAlive };
  }
}

class RuntimeClient {
  constructor(address) {
    const at = address.lastIndexOf(':');
    this.hostname = (at < 0 ? address : address.slice(0, at)).replace(/^\[|\]$/g, '');
    this.port = at < 0 ? 80 : parseInt(address.slice(at + 1), 10);
    this.hostHeader = address;
    this.socket = null;
    this.queue = Promise.resolve();
  }

  request(method, urlPath, body, headers) {
    const run = () => this.send(method, urlPath, body, headers);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  async send(method, urlPath, body, headers) {
    const payload = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    head += `User-Agent: ${USER_AGENT}\r\n`;
    for (const [name, value] of Object.entries(headers || {})) head += `${name}: ${value}\r\n`;
    if (payload !== undefined) head += `Content-Length: ${payload.length}\r\n`;
    head += '\r\n';
    const data = payload && payload.length
      ? Buffer.concat([Buffer.from(head, 'latin1'), payload])
      : Buffer.from(head, 'latin1');
    const reused = this.socket !== null;
    try {
      return await this.exchange(data);
    } catch (err) {
      // The server may close an idle keep-alive connection; the request never
      // reached it, so it is safe to send it again on a fresh one, once.
      if (!reused || !err.retryable) throw err;
      return this.exchange(data);
    }
  }

  // Opens the connection ahead of the first request.
  preconnect() {
    if (this.socket === null) this.connect().unref();
  }

  connect() {
    const socket = net.connect({ host: this.hostname, port: this.port, noDelay: true });
    socket.on('error', () => {}); // reported through the exchange in progress
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
    });
    this.socket = socket;
    return socket;
  }

  exchange(data) {
    const socket = this.socket || this.connect();
    socket.ref();
    return new Promise((resolve, reject) => {
      const parser = new ResponseParser();
      let received = false;
      const finish = (err, res) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onClose);
        socket.off('error', onError);
        if (err || !res.keepAlive) {
          socket.destroy();
          if (this.socket === socket) this.socket = null;
        } else {
          socket.unref();
        }
        if (err) reject(err);
        else resolve(res);
      };
      const onData = (chunk) => {
        received = true;
        let res;
        try {
          res = parser.push(chunk);
        } catch (err) {
          finish(err);
          return;
        }
        if (res) finish(null, res);
      };
      const onEnd = () => {
        let res;
        try {
          res = parser.end();
        } catch (err) {
          err.retryable = !received;
          finish(err);
          return;
        }
        finish(null, res);
      };
      const onError = (err) => {
        err.retryable = !received && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        finish(err);
      };
      const onClose = () => {
        const err = new Error('the Runtime API closed the connection');
        err.retryable = !received;
        finish(err);
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('error', onError);
      socket.write(data);
    });
  }

  async nextInvocation() {
    const res = await this.request('GET', `${API_PREFIX}/invocation/next`);
    if (res.status !== 200) {
      throw new Error(`GET /invocation/next answered ${res.status}: ${res.body}`);
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  async post(urlPath, bodyString, headers) {
    const res = await this.request('POST', urlPath, bodyString, {
      'Content-Type': 'application/json',
      ...headers,
    });
    if (res.status !== 202) {
      process.stderr.write(`nimbus runtime: POST ${urlPath} answered ${res.status}: ${res.body}\n`);
    }
  }

  postInvocationResponse(response, id) {
    const body = JSON.stringify(response === undefined ? null : response);
    return this.post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`, body);
  }

  postInvocationError(error, id) {
    const response = toRapidResponse(error);
    return this.post(
      `${API_PREFIX}/invocation/${encodeURIComponent(id)}/error`,
      JSON.stringify(response),
      { [ERROR_TYPE_HEADER]: headerSafe(response.errorType) },
    );
  }

  postInitError(error) {
    const response = toRapidResponse(error);
    return this.post(`${API_PREFIX}/init/error`, JSON.stringify(response), {
      [ERROR_TYPE_HEADER]: headerSafe(response.errorType),
    });
  }
}

function headerSafe(value) {
  // eslint-disable-next-line no-control-regex
  return String(value ?? 'Unhandled').replace(/[^\x20-\x7e]/g, '?');
}

// ---------------------------------------------------------------------------
// Loading the handler

function hasPackageJsonTypeModule(folder) {
  // The nearest package.json decides; a node_modules folder or the root ends
  // the search.
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const pj = path.join(folder, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
        if (pkg) return pkg.type === 'module';
      } catch (e) {
        console.warn(
          `${pj} cannot be read, it will be ignored for ES module detection purposes.`,
          e,
        );
        return false;
      }
    }
    const parent = path.dirname(folder);
    if (parent === folder) return false;
    folder = parent;
  }
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequire(lambdaStylePath);
  if (extensionless) return extensionless;

  const typeModule = hasPackageJsonTypeModule(path.dirname(lambdaStylePath));
  if (!typeModule) {
    const loaded = tryRequire(lambdaStylePath + '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (typeModule && (await tryImport(lambdaStylePath + '.js'))) ||
    (await tryImport(lambdaStylePath + '.mjs')) ||
    tryRequire(lambdaStylePath + '.cjs');
  if (loaded) return loaded;

  const resolved = require.resolve(moduleName, {
    paths: [appRoot, path.resolve(appRoot, moduleRoot)],
  });
  return require(resolved);
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw runtimeError(
      'MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw runtimeError('MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;

  let userApp;
  try {
    userApp = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw runtimeError('UserCodeSyntaxError', String(e), e.stack);
    }
    if (e && e.code === 'MODULE_NOT_FOUND') {
      throw runtimeError('ImportModuleError', String(e));
    }
    throw e;
  }

  const handler = handlerPath.split('.').reduce((obj, key) => obj && obj[key], userApp);
  if (!handler) {
    throw runtimeError('HandlerNotFound', `${fullHandler} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw runtimeError('HandlerNotFound', `${fullHandler} is not a function`);
  }
  return handler;
}

// ---------------------------------------------------------------------------
// The invoke loop

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const beforeExit = {
  invoke: () => globalThis[BEFORE_EXIT](),
  reset: () => (globalThis[BEFORE_EXIT] = () => {}),
  set: (listener) => (globalThis[BEFORE_EXIT] = listener),
};

function isPromise(obj) {
  return obj && typeof obj.then === 'function';
}

function isAsyncFunction(fn) {
  try {
    return fn.constructor && fn.constructor.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

class Runtime {
  constructor(client, handler, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.isAsync = isAsyncFunction(handler);
    this.errorCallbacks = errorCallbacks;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().catch((err) => {
        console.log(`Unexpected Top Level Error: ${err}`);
        this.errorCallbacks.uncaughtException(err);
      });
    });
  }

  async handleOnce() {
    let invocation;
    try {
      invocation = await this.client.nextInvocation();
    } catch (err) {
      process.stderr.write(`nimbus runtime: waiting for the next invocation failed: ${err}\n`);
      process.exit(1);
    }
    const { bodyJson, headers } = invocation;
    const id = headers['lambda-runtime-aws-request-id'];
    globalThis[REQUEST_ID] = id;
    if (headers['lambda-runtime-trace-id']) {
      process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }

    const [callback, callbackContext, markCompleted] = this.buildCallbackContext(id);
    try {
      this.errorCallbacks.uncaughtException = (error) =>
        this.client.postInvocationError(error, id).finally(() => process.exit(129));
      this.errorCallbacks.unhandledRejection = (error) =>
        this.client.postInvocationError(error, id).finally(() => process.exit(128));

      // If the event loop empties before the handler answered: an async
      // handler failed to settle its promise; any other answers null.
      beforeExit.set(() => {
        markCompleted();
        if (this.isAsync) {
          const err = runtimeError(
            'NodeJsExit',
            'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.',
          );
          logError('Invoke Error', err);
          this.client.postInvocationError(err, id).then(() => this.scheduleIteration());
        } else {
          this.client.postInvocationResponse(null, id).then(() => this.scheduleIteration());
        }
      });

      const context = Object.assign(callbackContext, buildContext(headers));
      const result = this.handler(JSON.parse(bodyJson), context, callback);
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  // The callback and the succeed/fail/done part of the context. Only the
  // first call of any of them counts.
  buildCallbackContext(id) {
    const client = this.client;
    const next = () => this.scheduleIteration();
    let completed = false;
    let waitForEmptyEventLoop = true;

    const postError = (err) => {
      logError('Invoke Error', err);
      client.postInvocationError(err, id).then(next);
    };
    const complete = (result) => {
      if (completed) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      completed = true;
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch {
        postError(new Error('Unable to stringify response body'));
        return;
      }
      client
        .post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`, body)
        .then(next);
    };

    const callback = (err, result) => {
      beforeExit.reset();
      if (err !== undefined && err !== null) {
        postError(err);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        beforeExit.set(() => setImmediate(() => complete(result)));
      }
    };
    const done = (err, result) => {
      beforeExit.reset();
      if (err !== undefined && err !== null) postError(err);
      else complete(result);
    };

    let finished = false;
    const once =
      (fn) =>
      (...args) => {
        if (!finished) {
          finished = true;
          fn(...args);
        }
      };

    const callbackContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: once((result) => done(null, result)),
      fail: once((err) => done(err === undefined || err === null ? 'handled' : err, null)),
      done: once(done),
    };
    return [once(callback), callbackContext, () => (completed = true)];
  }
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    // Header values are read as latin-1, byte for byte; the JSON text in them
    // is UTF-8.
    return JSON.parse(Buffer.from(value, 'latin1').toString('utf8'));
  } catch (err) {
    // The Runtime API carries JSON text; accept the Invoke API's base64 too.
    try {
      return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      throw new Error(`Cannot parse ${name} as json: ${err}`);
    }
  }
}

function buildContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  const env = process.env;
  return {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

// ---------------------------------------------------------------------------
// Start-up

async function main() {
  patchConsole();
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    process.stderr.write('nimbus runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  const client = new RuntimeClient(address);
  client.preconnect();

  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error).finally(() => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error).finally(() => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason) => {
    const error = runtimeError('UnhandledPromiseRejection', String(reason));
    error.reason = reason;
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', () => beforeExit.invoke());


  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
  } catch (err) {
    // On AWS a loading failure surfaces as an uncaught exception of the
    // bootstrap: logged as such, posted as the init error, exit code 129.
    logError('Uncaught Exception', err);
    await client.postInitError(err).catch(() => {});
    process.exit(129);
  }
  new Runtime(client, handler, errorCallbacks).scheduleIteration();
}

main();
