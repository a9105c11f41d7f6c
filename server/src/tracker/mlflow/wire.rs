//! Request and response bodies of MLflow's REST API 2.0, as far as Topica uses them.
//!
//! MLflow leaves empty and default fields out of its responses, so every response type
//! deserialises missing fields as their defaults. Ids, versions and parameter values travel as
//! JSON strings. Metric values are JSON numbers, except NaN and the infinities, which MLflow
//! writes as the strings "NaN", "Infinity" and "-Infinity" (protobuf's JSON mapping).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A key and a string value: a parameter or a tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(key: &str, value: &str) -> Self {
        Self {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// One metric value as MLflow stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricMessage {
    pub key: String,
    #[serde(
        serialize_with = "serialize_metric_value",
        deserialize_with = "deserialize_metric_value"
    )]
    pub value: f64,
    #[serde(deserialize_with = "deserialize_i64")]
    pub step: i64,
    /// Milliseconds since the Unix epoch.
    #[serde(deserialize_with = "deserialize_i64")]
    pub timestamp: i64,
}

/// The error body MLflow sends with a non-2xx status.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExperimentResponse {
    pub experiment: Experiment,
}

#[derive(Debug, Serialize)]
pub struct CreateExperiment<'a> {
    pub name: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateExperimentResponse {
    pub experiment_id: String,
}

#[derive(Debug, Serialize)]
pub struct SearchExperiments<'a> {
    pub max_results: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchExperimentsResponse {
    pub experiments: Vec<Experiment>,
    pub next_page_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    pub run_id: String,
    pub experiment_id: String,
    pub run_name: String,
    /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
    pub status: String,
    #[serde(deserialize_with = "deserialize_i64")]
    pub start_time: i64,
    #[serde(deserialize_with = "deserialize_optional_i64")]
    pub end_time: Option<i64>,
    /// Such as `mlflow-artifacts:/1/<run_id>/artifacts` on a server started with
    /// `--serve-artifacts`.
    pub artifact_uri: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunData {
    pub metrics: Vec<MetricMessage>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Run {
    pub info: RunInfo,
    pub data: RunData,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunResponse {
    pub run: Run,
}

#[derive(Debug, Serialize)]
pub struct CreateRun<'a> {
    pub experiment_id: &'a str,
    pub run_name: &'a str,
    pub start_time: i64,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Serialize)]
pub struct UpdateRun<'a> {
    pub run_id: &'a str,
    pub status: &'a str,
    pub end_time: i64,
}

#[derive(Debug, Default, Serialize)]
pub struct LogBatch<'a> {
    pub run_id: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Serialize)]
pub struct SearchRuns<'a> {
    pub experiment_ids: &'a [String],
    pub order_by: Vec<&'static str>,
    pub max_results: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchRunsResponse {
    pub runs: Vec<Run>,
    pub next_page_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MetricHistoryResponse {
    pub metrics: Vec<MetricMessage>,
    pub next_page_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArtifactListing {
    pub files: Vec<ArtifactFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArtifactFile {
    pub path: String,
    pub is_dir: bool,
}

#[derive(Debug, Serialize)]
pub struct CreateRegisteredModel<'a> {
    pub name: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CreateModelVersion<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub run_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct SetAlias<'a> {
    pub name: &'a str,
    pub alias: &'a str,
    pub version: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersionMessage {
    pub name: String,
    pub version: String,
    pub source: String,
    pub run_id: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersionResponse {
    pub model_version: ModelVersionMessage,
}

/// Response body of calls whose only result is the HTTP status.
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

fn serialize_metric_value<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if *value == f64::INFINITY {
        serializer.serialize_str("Infinity")
    } else if *value == f64::NEG_INFINITY {
        serializer.serialize_str("-Infinity")
    } else {
        serializer.serialize_f64(*value)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Integer(i64),
    Float(f64),
    Text(String),
}

fn deserialize_metric_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    match NumberOrString::deserialize(deserializer)? {
        NumberOrString::Float(value) => Ok(value),
        NumberOrString::Integer(value) => Ok(value as f64),
        NumberOrString::Text(text) => match text.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other.parse().map_err(serde::de::Error::custom),
        },
    }
}

/// Reads an int64 sent as a JSON number or, as protobuf's JSON mapping allows, as a string.
fn deserialize_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match NumberOrString::deserialize(deserializer)? {
        NumberOrString::Integer(value) => Ok(value),
        NumberOrString::Float(value) => Ok(value as i64),
        NumberOrString::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

fn deserialize_optional_i64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    deserialize_i64(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_values_round_trip_non_finite() {
        for value in [1.5, -0.25, f64::INFINITY, f64::NEG_INFINITY] {
            let message = MetricMessage {
                key: "m".into(),
                value,
                step: 3,
                timestamp: 7,
            };
            let json = serde_json::to_string(&message).unwrap();
            let back: MetricMessage = serde_json::from_str(&json).unwrap();
            assert_eq!(back, message, "{json}");
        }
        let json = serde_json::to_string(&MetricMessage {
            value: f64::NAN,
            ..Default::default()
        })
        .unwrap();
        assert!(json.contains(r#""value":"NaN""#), "{json}");
        let back: MetricMessage = serde_json::from_str(&json).unwrap();
        assert!(back.value.is_nan());
    }

    #[test]
    fn missing_fields_take_defaults() {
        let run: RunResponse =
            serde_json::from_str(r#"{"run": {"info": {"run_id": "abc", "start_time": "12"}}}"#)
                .unwrap();
        assert_eq!(run.run.info.run_id, "abc");
        assert_eq!(run.run.info.start_time, 12);
        assert_eq!(run.run.info.end_time, None);
        assert!(run.run.data.params.is_empty());
        let metric: MetricMessage = serde_json::from_str(r#"{"key": "ll", "value": 2}"#).unwrap();
        assert_eq!(metric.value, 2.0);
        assert_eq!(metric.step, 0);
    }
}
