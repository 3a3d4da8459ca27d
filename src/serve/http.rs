//! The preview's HTTP side: pages from memory, live-reload events, the error list.
//!
//! Only GET and HEAD are answered. Paths are decoded and checked before lookup:
//! `..`, `.`, backslashes, NUL and encoded slashes are refused. Files are served
//! from the in-memory site, so nothing outside it can be reached.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::{App, LiveEvent};

const LIVE_JS: &str = include_str!("live.js");
const LIVE_TAG: &str = "<script src=\"/__thematic/live.js\" defer></script>";

/// The router: every request goes through [`handle`].
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// Content type by file extension.
pub(crate) fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "csv" => "text/csv; charset=utf-8",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Why a request path is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadPath {
    /// Not valid percent-encoding or not UTF-8.
    Malformed,
    /// Tries to leave the site root or smuggle a separator.
    Escapes,
}

/// Decodes a request path into a site path (`themes/a/index.html`), refusing escapes.
pub(crate) fn site_path(raw: &str) -> Result<String, BadPath> {
    let lower = raw.to_ascii_lowercase();
    // An encoded separator would let a segment hide a `/` or `\` from the checks below.
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") {
        return Err(BadPath::Escapes);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).ok_or(BadPath::Malformed)?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| BadPath::Malformed)?);
            i += 3;
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(bytes).map_err(|_| BadPath::Malformed)?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(BadPath::Escapes);
    }
    let trimmed = decoded.trim_start_matches('/');
    if trimmed.split('/').any(|seg| seg == ".." || seg == ".") || trimmed.contains("//") {
        return Err(BadPath::Escapes);
    }
    let mut path = trimmed.to_string();
    if path.is_empty() || path.ends_with('/') {
        path.push_str("index.html");
    }
    Ok(path)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Adds the live-reload script to an HTML page.
fn inject(html: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(html);
    match s.rfind("</body>") {
        Some(i) => format!("{}{LIVE_TAG}\n{}", &s[..i], &s[i..]).into_bytes(),
        None => format!("{s}{LIVE_TAG}").into_bytes(),
    }
}

/// True for the names a browser on this machine uses for a loopback server.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    let name = name.to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name == "::1" || name.starts_with("127.")
}

async fn handle(
    State(app): State<Arc<App>>,
    method: Method,
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> Response {
    if app.loopback_only {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        if !is_loopback_host(host) {
            return text(
                StatusCode::FORBIDDEN,
                "This preview answers only to localhost.\n",
            );
        }
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Only GET and HEAD are allowed.\n",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let raw = uri.path();
    let mut response = match raw {
        "/__thematic/events" => events(&app).into_response(),
        "/__thematic/live.js" => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            LIVE_JS,
        )
            .into_response(),
        "/__thematic/errors" => {
            let live = app.snapshot();
            let body = serde_json::to_string(&live.errors).unwrap_or_else(|_| "[]".into());
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        "/__thematic/status" => {
            let live = app.snapshot();
            let body = serde_json::json!({ "generation": live.generation, "errors": live.errors.len(), "downloads_pending": live.downloads_pending });
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        _ => page(&app, raw),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // For HEAD, hyper sends the headers (length included) and drops the body.
    response
}

fn page(app: &App, raw: &str) -> Response {
    let path = match site_path(raw) {
        Ok(p) => p,
        Err(BadPath::Malformed) => return text(StatusCode::BAD_REQUEST, "Malformed path.\n"),
        Err(BadPath::Escapes) => {
            return text(StatusCode::FORBIDDEN, "This path is outside the site.\n");
        }
    };
    let live = app.snapshot();
    if let Some(bytes) = live.files.get(&path) {
        let ct = content_type(&path);
        let body = if ct.starts_with("text/html") {
            inject(bytes)
        } else {
            bytes.to_vec()
        };
        return ([(header::CONTENT_TYPE, ct)], body).into_response();
    }
    // A folder asked for without its slash: send the browser to the folder, so relative links work.
    let folder_index = format!("{path}/index.html");
    if !raw.ends_with('/') && live.files.contains_key(&folder_index) {
        // Built from the trimmed path: a raw `//host/x` would point the browser at another host.
        let location = format!("/{}/", raw.trim_start_matches('/'));
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
            "",
        )
            .into_response();
    }
    let body = match live.files.get("404.html") {
        Some(b) => inject(b),
        None if live.files.is_empty() => inject(
            b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>thematic: no site yet</title></head>\
              <body><h1>The study has errors</h1><p>Fix the errors shown in the terminal; this page reloads by itself.</p></body></html>",
        ),
        None => inject(b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><h1>Not found</h1></body></html>"),
    };
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn events(app: &App) -> impl IntoResponse + use<> {
    let rx = app.events.subscribe();
    let stream = BroadcastStream::new(rx)
        .take_while(|e| !matches!(e, Ok(LiveEvent::Shutdown)))
        .filter_map(|e| {
            let e = e.ok()?;
            let event = match e {
                LiveEvent::Reload(paths) => Event::default()
                    .event("reload")
                    .data(serde_json::to_string(&paths).unwrap_or_else(|_| "[\"*\"]".into())),
                LiveEvent::Css => Event::default().event("css").data("css"),
                LiveEvent::Errors(errors) => Event::default()
                    .event("errors")
                    .data(serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into())),
                LiveEvent::Shutdown => return None,
            };
            Some(Ok::<_, Infallible>(event))
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_site_files() {
        assert_eq!(site_path("/").unwrap(), "index.html");
        assert_eq!(site_path("/themes/a/").unwrap(), "themes/a/index.html");
        assert_eq!(site_path("/static/style.css").unwrap(), "static/style.css");
        assert_eq!(
            site_path("/sites/s%C3%A3o/").unwrap(),
            "sites/são/index.html"
        );
    }

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/a%2f..%2fb",
            "/a\\b",
            "/./x",
            "/a%00",
        ] {
            assert_eq!(site_path(bad), Err(BadPath::Escapes), "{bad}");
        }
        assert_eq!(site_path("/%zz"), Err(BadPath::Malformed));
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = String::from_utf8(inject(b"<html><body><p>x</p></body></html>")).unwrap();
        assert!(
            out.contains("<p>x</p><script src=\"/__thematic/live.js\" defer></script>\n</body>")
        );
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:1111",
            "127.0.0.1:8080",
            "[::1]:1111",
            "preview.localhost",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "attacker.example",
            "attacker.example:1111",
            "10.0.0.2",
            "localhost.attacker.example",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("static/style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }
}
