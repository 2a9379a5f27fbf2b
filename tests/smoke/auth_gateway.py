"""auth_gateway.py — a stand-in for API Gateway's authentication in front of the local stack
(Python 3 standard library only), for testing scripts/smoke.sh in every auth mode.

AuthGateway(mode, upstream_port, ...) listens on a free loopback port under a stage prefix
(/prod, like a deployed REST stage), checks each request's credential as API Gateway would,
and forwards what passes to the local stack (scripts/run.sh) without the stage prefix:

  none     everything passes (Auth=NONE)
  api_key  x-api-key must equal the key; else 403 {"message": "Forbidden"} (INVALID_API_KEY)
  bearer   Authorization: Bearer <JWT>: an HS256 JWT signed with the gateway's test secret
           (a stand-in for Cognito's RS256 keys: the same header, claims and checks — the
           signature, exp, token_use "id" and aud = the app client id); a missing or bad token
           is 401 {"message": "Unauthorized"} (UNAUTHORIZED)
  iam      AWS Signature Version 4 for service execute-api, RECOMPUTED from the request as
           received (method, path, query, the signed headers, the body) with the known secret
           and compared with hmac.compare_digest; also the scope (date, Region, service), a
           15-minute clock window and the session token. Missing: 403 {"message": "Missing
           Authentication Token"}; wrong: 403 (INVALID_SIGNATURE)

Counts what it let through and what it refused (`passed`, `refused`), so a test can prove
that every request of a flow carried the credential.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import socket
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- JWT (HS256) ----

def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(secret, claims):
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signing_input = (header + "." + payload).encode()
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return header + "." + payload + "." + _b64url(sig)


def id_token(secret, client_id, username="smoke-user", lifetime=3600):
    """What Cognito's initiate-auth returns as IdToken, signed with the test secret."""
    now = int(time.time())
    return make_jwt(secret, {"sub": "0b8f5a6e-0000-4000-8000-000000000001", "aud": client_id,
                             "token_use": "id", "cognito:username": username,
                             "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST",
                             "iat": now, "exp": now + lifetime})


def verify_jwt(secret, client_id, token, now=None):
    """(ok, reason)."""
    parts = token.split(".")
    if len(parts) != 3:
        return False, "not a JWT"
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        sig = _b64url_decode(parts[2])
    except ValueError:
        return False, "not a JWT"
    if header.get("alg") != "HS256":
        return False, "unexpected alg"
    want = hmac.new(secret, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, want):
        return False, "bad signature"
    if claims.get("exp", 0) <= (now or time.time()):
        return False, "expired"
    if claims.get("token_use") != "id" or claims.get("aud") != client_id:
        return False, "not an ID token of this app client"
    return True, ""


# ---- SigV4 ----

def _uri_encode(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


def canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(name)), _uri_encode(urllib.parse.unquote(value))))
    return "&".join("%s=%s" % p for p in sorted(pairs))


def canonical_uri(path):
    # Every service but S3: the path as sent, each segment URI-encoded once more.
    return "/".join(_uri_encode(seg) for seg in (path or "/").split("/"))


def _sign_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def verify_sigv4(method, target, headers, body, secrets, region, service, now=None,
                 session_tokens=None, window=900):
    """(ok, reason) for one request. headers: [(name, value)] as received; secrets: access
    key id → secret; session_tokens: access key id → the token it must come with."""
    by_name = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    auth = (by_name.get("authorization") or [""])[0]
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "missing"
    fields = {}
    for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v
    try:
        akid, date, cred_region, cred_service, terminator = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        return False, "malformed Authorization"
    if akid not in secrets:
        return False, "unknown access key"
    if (cred_region, cred_service, terminator) != (region, service, "aws4_request"):
        return False, "wrong scope %s/%s/%s" % (cred_region, cred_service, terminator)
    if "host" not in signed or signed != sorted(signed):
        return False, "host not signed, or SignedHeaders not sorted"
    amz_date = (by_name.get("x-amz-date") or [""])[0]
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return False, "no X-Amz-Date"
    if amz_date[:8] != date:
        return False, "the scope's date is not X-Amz-Date's"
    if now is not None and abs((now - when).total_seconds()) > window:
        return False, "signature expired (clock skew)"
    token = (session_tokens or {}).get(akid)
    if token is not None and (by_name.get("x-amz-security-token") or [None])[0] != token:
        return False, "missing or wrong security token"
    lines = []
    for name in signed:
        if name not in by_name:
            return False, "signed header %s is missing" % name
        values = [" ".join(v.strip().split()) for v in by_name[name]]
        lines.append("%s:%s\n" % (name, ",".join(values)))
    path, _, query = target.partition("?")
    creq = "\n".join([method, canonical_uri(path), canonical_query(query), "".join(lines),
                      ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = "/".join([date, region, service, "aws4_request"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    want = hmac.new(_sign_key(secrets[akid], date, region, service), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        return False, "signature mismatch"
    return True, ""


# ---- the gateway ----

class AuthGateway:
    def __init__(self, mode, upstream_port, stage="/prod", api_key=None, jwt_secret=None,
                 client_id=None, region="us-east-1", secrets=None, session_tokens=None):
        self.mode, self.upstream_port, self.stage = mode, upstream_port, stage
        self.api_key, self.jwt_secret, self.client_id = api_key, jwt_secret, client_id
        self.region, self.secrets, self.session_tokens = region, secrets or {}, session_tokens or {}
        self.passed = 0
        self.refused = []  # (status, reason, method, path)
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d%s" % (self.port, stage)
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                gateway.serve(self, body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def check(self, handler, body):
        """None when the request may pass, else (status, message, reason)."""
        headers = list(handler.headers.items())
        if self.mode == "none":
            return None
        if self.mode == "api_key":
            got = handler.headers.get("x-api-key")
            if got is None or not hmac.compare_digest(got.encode(), self.api_key.encode()):
                return 403, "Forbidden", "missing" if got is None else "wrong API key"
            return None
        if self.mode == "bearer":
            auth = handler.headers.get("Authorization")
            if not auth:
                return 401, "Unauthorized", "missing"
            token = auth[7:] if auth.startswith("Bearer ") else auth
            ok, reason = verify_jwt(self.jwt_secret, self.client_id, token)
            return None if ok else (401, "Unauthorized", reason)
        if self.mode == "iam":
            ok, reason = verify_sigv4(handler.command, handler.path, headers, body, self.secrets,
                                      self.region, "execute-api",
                                      now=datetime.datetime.now(datetime.timezone.utc),
                                      session_tokens=self.session_tokens)
            if ok:
                return None
            if reason == "missing":
                return 403, "Missing Authentication Token", reason
            return 403, "The request signature we calculated does not match the signature you provided.", reason
        raise ValueError(self.mode)

    def answer(self, handler, status, headers, body):
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def serve(self, handler, body):
        path = handler.path
        if not (path == self.stage or path.startswith(self.stage + "/") or path.startswith(self.stage + "?")):
            self.answer(handler, 403, [("Content-Type", "application/json")],
                        b'{"message":"Missing Authentication Token"}')
            return
        refusal = self.check(handler, body)
        if refusal:
            status, message, reason = refusal
            with self.lock:
                self.refused.append((status, reason, handler.command, path))
            self.answer(handler, status, [("Content-Type", "application/json"),
                                          ("x-amzn-ErrorType", "UnauthorizedException")],
                        json.dumps({"message": message}).encode())
            return
        with self.lock:
            self.passed += 1
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            fwd = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(handler.command, path[len(self.stage):] or "/", body=body or None, headers=fwd)
            resp = upstream.getresponse()
            data = resp.read()
            self.answer(handler, resp.status,
                        [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], data)
        finally:
            upstream.close()
