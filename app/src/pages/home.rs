//! `/`: every corpus and every run.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_overview;
use crate::components::{ErrorList, LoadError, format_score, format_timestamp};
use crate::dto::{CorpusSummary, RunSummary};

/// Lists corpora and runs, each run linking to its page.
#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());

    view! {
        <Title text="Corpora and runs" />
        <h1>"Corpora and runs"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    overview
                        .await
                        .map_err(LoadError::from)
                        .map(|overview| {
                            view! {
                                <CorporaTable corpora=overview.corpora />
                                <RunsTable runs=overview.runs />
                            }
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn CorporaTable(corpora: Vec<CorpusSummary>) -> impl IntoView {
    if corpora.is_empty() {
        return view! {
            <section>
                <h2>"Corpora"</h2>
                <p class="empty">"No corpora yet. Ingest one with " <code>"topica ingest"</code> "."</p>
            </section>
        }
        .into_any();
    }

    let rows = corpora
        .into_iter()
        .map(|corpus| {
            let dates = match (corpus.first_date, corpus.last_date) {
                (Some(first), Some(last)) => format!("{first} – {last}"),
                (Some(only), None) | (None, Some(only)) => only,
                (None, None) => "no dates".to_string(),
            };
            view! {
                <tr>
                    <td>{corpus.name}</td>
                    <td class="num">{corpus.documents}</td>
                    <td class="num">{corpus.collections}</td>
                    <td>{dates}</td>
                    <td title=corpus.created_at.clone()>{format_timestamp(&corpus.created_at)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <section>
            <h2>"Corpora"</h2>
            <table id="corpora">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th class="num">"Documents"</th>
                        <th class="num">"Collections"</th>
                        <th>"Dates"</th>
                        <th>"Created"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn RunsTable(runs: Vec<RunSummary>) -> impl IntoView {
    if runs.is_empty() {
        return view! {
            <section>
                <h2>"Runs"</h2>
                <p class="empty">"No runs yet. Train a model with " <code>"topica train"</code> "."</p>
            </section>
        }
        .into_any();
    }

    let rows = runs
        .into_iter()
        .map(|run| {
            // NOTE: the id goes into the path unescaped, which assumes the tracker's ids are
            // URL-safe (hex or UUID strings are).
            let href = format!("/runs/{}", run.run_id);
            view! {
                <tr>
                    <td>
                        <a href=href class="run-link">{run.run_id}</a>
                    </td>
                    <td>{run.corpus}</td>
                    <td class="num">{run.num_topics}</td>
                    <td>
                        <span class=format!("status status-{}", run.status)>{run.status.clone()}</span>
                    </td>
                    <td title=run.started_at.clone()>{format_timestamp(&run.started_at)}</td>
                    <td class="num">{format_score(run.c_v)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <section>
            <h2>"Runs"</h2>
            <table id="runs">
                <thead>
                    <tr>
                        <th>"Run"</th>
                        <th>"Corpus"</th>
                        <th class="num">"Topics"</th>
                        <th>"Status"</th>
                        <th>"Started"</th>
                        <th class="num">"c_v"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}
