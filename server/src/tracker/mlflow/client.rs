//! HTTP transport to one MLflow server: builds URLs below its base URL, sends JSON or bytes, and
//! turns transport failures and MLflow's error bodies into `TrackerError`s that name the server.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::ErrorBody;
use crate::tracker::TrackerError;

/// Maximum time to open a connection before a request fails as "cannot reach MLflow".
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Maximum characters of an unparsable error body that go into an error message.
const MAX_ERROR_BODY_CHARS: usize = 500;

/// Retries after a refused connection or a 429/503 status, the cases in which the server did not
/// act on the request, so repeating it cannot log a value twice.
const MAX_RETRIES: u32 = 3;
/// Wait before the first retry, doubled before each further one (0.25 s, 0.5 s, 1 s).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// Base URL without its password, for messages and logs.
    base_display: String,
    timeout: Duration,
}

impl Client {
    /// Checks that `base_url` is an http(s) URL and builds a client whose requests time out
    /// after `timeout`. Credentials in the URL (`http://user:password@host`) are sent as HTTP
    /// basic authentication.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, TrackerError> {
        let invalid = |cause: String| TrackerError::InvalidMlflowUri {
            uri: base_url.to_owned(),
            cause,
        };
        let base = Url::parse(base_url.trim()).map_err(|error| invalid(error.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "the scheme is {:?}, not http or https",
                base.scheme()
            )));
        }
        if base.cannot_be_a_base() || base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("the URL must have no query or fragment".into()));
        }

        let base_display = redact_password(&base)
            .as_str()
            .trim_end_matches('/')
            .to_owned();

        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .user_agent(concat!("topica/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| invalid(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            http,
            base,
            base_display,
            timeout,
        })
    }

    /// Returns the server's base URL, without a trailing slash or a password.
    pub fn base_url(&self) -> &str {
        &self.base_display
    }

    /// Builds `<base>/<segments…>`, percent-encoding each segment.
    pub fn url<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in Client::new")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// Builds the URL of a REST 2.0 call such as `mlflow/runs/get`.
    pub fn api_url(&self, endpoint: &str) -> Url {
        self.url(["api", "2.0"].into_iter().chain(endpoint.split('/')))
    }

    /// Sends `GET <api>/<endpoint>?<query>` and parses the JSON response.
    pub async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<T, TrackerError> {
        let mut url = self.api_url(endpoint);
        url.query_pairs_mut().extend_pairs(query);
        let response = self
            .send(Method::GET, url.clone(), self.http.get(url.clone()))
            .await?;
        self.read_json(&Method::GET, &url, response).await
    }

    /// Sends `POST <api>/<endpoint>` with a JSON body and parses the JSON response.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &B,
    ) -> Result<T, TrackerError> {
        let url = self.api_url(endpoint);
        let response = self
            .send(
                Method::POST,
                url.clone(),
                self.http.post(url.clone()).json(body),
            )
            .await?;
        self.read_json(&Method::POST, &url, response).await
    }

    /// Sends `PUT url` with raw bytes, as MLflow's artifact proxy expects for uploads.
    pub async fn put_bytes(&self, url: Url, bytes: Vec<u8>) -> Result<(), TrackerError> {
        let request = self
            .http
            .put(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.send(Method::PUT, url, request).await.map(drop)
    }

    /// Sends `GET url` and returns the raw body.
    pub async fn get_bytes(&self, url: Url) -> Result<Vec<u8>, TrackerError> {
        let response = self
            .send(Method::GET, url.clone(), self.http.get(url.clone()))
            .await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.transport_error(&Method::GET, &url, &error))?;
        Ok(bytes.to_vec())
    }

    /// Sends a request, retrying while the server is unreachable or busy, and turns a non-2xx
    /// status into `TrackerError::Mlflow`.
    async fn send(
        &self,
        method: Method,
        url: Url,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, TrackerError> {
        let mut delay = FIRST_RETRY_DELAY;
        let mut retries = 0;
        let response = loop {
            let attempt = request
                .try_clone()
                .expect("request bodies are buffered, so they can be cloned");
            let outcome = attempt.send().await;
            let retryable = match &outcome {
                Ok(response) => matches!(
                    response.status(),
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                ),
                Err(error) => error.is_connect() && !error.is_timeout(),
            };
            if !retryable || retries == MAX_RETRIES {
                break outcome.map_err(|error| self.transport_error(&method, &url, &error))?;
            }

            let cause = match &outcome {
                Ok(response) => response.status().to_string(),
                Err(error) => root_cause(error),
            };
            tracing::warn!(%method, path = url.path(), %cause, retry = retries + 1, "MLflow request failed, retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
            retries += 1;
        };

        let status = response.status();
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), "MLflow request");
        if status.is_success() {
            return Ok(response);
        }

        let body = response.text().await.unwrap_or_default();
        let (error_code, message) = match serde_json::from_str::<ErrorBody>(&body) {
            Ok(parsed) if !parsed.error_code.is_empty() || !parsed.message.is_empty() => {
                (parsed.error_code, parsed.message)
            }
            _ => (
                fallback_error_code(status),
                body.trim().chars().take(MAX_ERROR_BODY_CHARS).collect(),
            ),
        };
        Err(TrackerError::Mlflow {
            base_url: self.base_display.clone(),
            method: method.to_string(),
            path: url.path().to_owned(),
            status: status.as_u16(),
            error_code,
            message,
        })
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &Url,
        response: reqwest::Response,
    ) -> Result<T, TrackerError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.transport_error(method, url, &error))?;
        serde_json::from_slice(&bytes).map_err(|error| TrackerError::MlflowRequest {
            method: method.to_string(),
            url: redact_password(url).to_string(),
            cause: format!("the response is not the expected JSON: {error}"),
        })
    }

    fn transport_error(&self, method: &Method, url: &Url, error: &reqwest::Error) -> TrackerError {
        if error.is_connect() {
            return TrackerError::MlflowUnreachable {
                url: self.base_display.clone(),
                cause: root_cause(error),
            };
        }
        let cause = if error.is_timeout() {
            format!("no response within {} s", self.timeout.as_secs_f64())
        } else {
            root_cause(error)
        };
        TrackerError::MlflowRequest {
            method: method.to_string(),
            url: redact_password(url).to_string(),
            cause,
        }
    }
}

/// Returns the URL with its password, if any, replaced by `***`, for messages and logs.
fn redact_password(url: &Url) -> Url {
    let mut redacted = url.clone();
    if redacted.password().is_some() {
        // Only URLs that cannot have a password reject this, and this one has a password.
        let _ = redacted.set_password(Some("***"));
    }
    redacted
}

/// Returns the innermost cause, such as "Connection refused (os error 111)", because reqwest's
/// own message ("error sending request for url") does not say what went wrong.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Names a status that came without MLflow's JSON error body (from a proxy, say) in MLflow's
/// style, such as `BAD_GATEWAY`.
fn fallback_error_code(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("HTTP_ERROR")
        .to_uppercase()
        .replace([' ', '-'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_base_path_encoded() {
        let client = Client::new("http://127.0.0.1:5000/mlflow/", Duration::from_secs(5)).unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:5000/mlflow");
        assert_eq!(
            client.api_url("mlflow/runs/get").as_str(),
            "http://127.0.0.1:5000/mlflow/api/2.0/mlflow/runs/get"
        );
        assert_eq!(
            client.url(["a b", "c#d"]).as_str(),
            "http://127.0.0.1:5000/mlflow/a%20b/c%23d"
        );
    }

    #[test]
    fn invalid_base_urls_are_rejected() {
        for uri in [
            "127.0.0.1:5000",
            "file:///tmp/mlruns",
            "http://host/?x=1",
            "not a url",
        ] {
            let error = Client::new(uri, Duration::from_secs(5)).unwrap_err();
            assert!(
                matches!(error, TrackerError::InvalidMlflowUri { .. }),
                "{uri}: {error}"
            );
        }
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        let client =
            Client::new("http://user:secret@127.0.0.1:5000", Duration::from_secs(5)).unwrap();
        assert_eq!(client.base_url(), "http://user:***@127.0.0.1:5000");
    }

    #[test]
    fn fallback_error_codes_match_mlflow_style() {
        assert_eq!(fallback_error_code(StatusCode::BAD_GATEWAY), "BAD_GATEWAY");
        assert_eq!(
            fallback_error_code(StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE"
        );
    }
}
