//! `/runs/:id`: one trained model's topics, coherence, parameters and training curve.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::get_run;
use crate::components::{
    ErrorList, LoadError, Sparkline, TopicsPanel, format_score, format_timestamp,
};
use crate::dto::{MeasureView, RunDetail};
use crate::pages::NotFound;

/// Loads the run named in the URL and shows it, or a 404 page when no run has that id.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let run_id = move || params.read().get("id").unwrap_or_default();
    let run = Resource::new(run_id, get_run);

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading run…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    let requested_id = run_id();
                    run.await
                        .map_err(LoadError::from)
                        .map(|detail| match detail {
                            Some(detail) => Either::Left(view! { <RunView detail /> }),
                            None => {
                                let message = format!("No run has the id {requested_id:?}.");
                                Either::Right(view! { <NotFound message /> })
                            }
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn RunView(detail: RunDetail) -> impl IntoView {
    let per_topic_coherence = detail
        .topics
        .iter()
        .map(|topic| detail.topic_coherence(topic.id))
        .collect::<Vec<_>>();
    let RunDetail {
        run_id,
        corpus,
        status,
        started_at,
        params,
        topics,
        coherence,
        log_likelihood,
    } = detail;

    view! {
        <Title text=format!("Run {run_id}") />
        <p class="breadcrumb">
            <a href="/">"Corpora and runs"</a>
            " / run"
        </p>
        <h1>"Run " <code>{run_id}</code></h1>
        <dl class="facts">
            <dt>"Corpus"</dt>
            <dd>{corpus}</dd>
            <dt>"Status"</dt>
            <dd>
                <span class=format!("status status-{status}")>{status.clone()}</span>
            </dd>
            <dt>"Started"</dt>
            <dd title=started_at.clone()>{format_timestamp(&started_at)}</dd>
            <dt>"Topics"</dt>
            <dd>{topics.len()}</dd>
        </dl>
        <div class="run-summary">
            <CoherenceTable coherence />
            <TrainingCurve log_likelihood />
            <ParamsTable params />
        </div>
        <section>
            <h2>"Topics"</h2>
            {if topics.is_empty() {
                Either::Left(view! { <p class="empty">"This run has no topics yet."</p> })
            } else {
                Either::Right(view! { <TopicsPanel topics coherence=per_topic_coherence /> })
            }}
        </section>
    }
}

#[component]
fn CoherenceTable(coherence: Vec<MeasureView>) -> impl IntoView {
    let rows = coherence
        .into_iter()
        .map(|measure| {
            let best = measure.per_topic.iter().flatten().copied().reduce(f64::max);
            let worst = measure.per_topic.iter().flatten().copied().reduce(f64::min);
            view! {
                <tr>
                    <td>{measure.measure}</td>
                    <td class="num">{format_score(Some(measure.overall))}</td>
                    <td class="num">{format_score(best)}</td>
                    <td class="num">{format_score(worst)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <section class="coherence">
            <h2>"Coherence"</h2>
            <table id="coherence">
                <thead>
                    <tr>
                        <th>"Measure"</th>
                        <th class="num">"Mean"</th>
                        <th class="num">"Best topic"</th>
                        <th class="num">"Worst topic"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn TrainingCurve(log_likelihood: Vec<f64>) -> impl IntoView {
    let last = log_likelihood.last().copied();
    let steps = log_likelihood.len();

    view! {
        <section class="training">
            <h2>"Log-likelihood"</h2>
            {if steps == 0 {
                Either::Left(view! { <p class="empty">"Not recorded."</p> })
            } else {
                Either::Right(view! {
                    <Sparkline values=log_likelihood label="Log-likelihood per logged training step" />
                    <p class="caption">
                        {format!("{steps} logged steps, last {}", format_score(last))}
                    </p>
                })
            }}
        </section>
    }
}

#[component]
fn ParamsTable(params: Vec<(String, String)>) -> impl IntoView {
    let rows = params
        .into_iter()
        .map(|(name, value)| {
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td>{value}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <section class="params">
            <h2>"Parameters"</h2>
            <table id="params">
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
