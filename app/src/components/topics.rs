//! The topic list of a run page, with the controls that change it in the browser.
//!
//! Both controls only change signals, so after hydration they update the page without asking
//! the server again.

use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::format_score;
use crate::dto::TopicView;

/// Words shown per topic before the reader moves the slider.
const DEFAULT_TOP_WORDS: usize = 10;

/// Drawing style of a topic's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// A list of words with horizontal weight bars.
    Bars,
    /// A table of words and probabilities.
    Table,
}

impl Layout {
    fn toggled(self) -> Self {
        match self {
            Layout::Bars => Layout::Table,
            Layout::Table => Layout::Bars,
        }
    }

    /// Label of the button that switches away from this layout.
    fn switch_label(self) -> &'static str {
        match self {
            Layout::Bars => "Show as table",
            Layout::Table => "Show as bars",
        }
    }
}

/// Lists every topic with a slider for the number of words per topic and a bars/table toggle.
#[component]
pub fn TopicsPanel(
    /// Topics in display order.
    topics: Vec<TopicView>,
    /// Coherence per topic as `(measure, value)` pairs, in the same order as `topics`.
    coherence: Vec<Vec<(String, f64)>>,
) -> impl IntoView {
    let max_words = topics
        .iter()
        .map(|topic| topic.words.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let top_words = RwSignal::new(DEFAULT_TOP_WORDS.min(max_words));
    let layout = RwSignal::new(Layout::Bars);

    let set_top_words = move |event| {
        // The browser keeps a range input within min and max, but the value is still text.
        if let Ok(count) = event_target_value(&event).parse::<usize>() {
            top_words.set(count.clamp(1, max_words));
        }
    };

    let cards = topics
        .into_iter()
        .zip(coherence.into_iter().chain(std::iter::repeat(Vec::new())))
        .map(|(topic, coherence)| {
            view! { <TopicCard topic coherence top_words=top_words.read_only() layout=layout.read_only() /> }
        })
        .collect_view();

    view! {
        <div class="topic-controls">
            <label for="top-words">"Words per topic"</label>
            <input
                id="top-words"
                type="range"
                min=1
                max=max_words
                prop:value=move || top_words.get().to_string()
                on:input=set_top_words
            />
            <output for="top-words" id="top-words-value">
                {move || top_words.get()}
            </output>
            <button
                type="button"
                id="layout-toggle"
                on:click=move |_| layout.update(|layout| *layout = layout.toggled())
            >
                {move || layout.get().switch_label()}
            </button>
        </div>
        <div class="topics">{cards}</div>
    }
}

/// Renders one topic: its id, coherence and most probable words.
#[component]
fn TopicCard(
    topic: TopicView,
    coherence: Vec<(String, f64)>,
    top_words: ReadSignal<usize>,
    layout: ReadSignal<Layout>,
) -> impl IntoView {
    let words: Arc<[(String, f64)]> = topic.words.into();
    // Bars are scaled to the topic's most probable word, so each topic uses the full width.
    let max_weight = words.iter().map(|(_, weight)| *weight).fold(0.0, f64::max);

    let badges = coherence
        .into_iter()
        .map(|(measure, value)| {
            let title = format!("{measure} coherence of this topic");
            view! {
                <span class="badge" title=title>
                    {measure}" "{format_score(Some(value))}
                </span>
            }
        })
        .collect_view();

    let body = move || {
        let visible_words = words
            .iter()
            .take(top_words.get())
            .cloned()
            .collect::<Vec<_>>();
        match layout.get() {
            Layout::Bars => Either::Left(view! { <WordBars words=visible_words max_weight /> }),
            Layout::Table => Either::Right(view! { <WordTable words=visible_words /> }),
        }
    };

    view! {
        <article class="topic" data-topic=topic.id>
            <header>
                <h3>"Topic "{topic.id}</h3>
                <div class="badges">{badges}</div>
            </header>
            {body}
        </article>
    }
}

#[component]
fn WordBars(words: Vec<(String, f64)>, max_weight: f64) -> impl IntoView {
    let rows = words
        .into_iter()
        .map(|(word, weight)| {
            let share = if max_weight > 0.0 {
                weight / max_weight * 100.0
            } else {
                0.0
            };
            // The full word is the tooltip, because CSS cuts long phrases off with an ellipsis.
            let tooltip = word.clone();
            view! {
                <li>
                    <span class="word" title=tooltip>{word}</span>
                    <span class="bar" aria-hidden="true">
                        <span class="fill" style:width=format!("{share:.1}%")></span>
                    </span>
                    <span class="weight">{format!("{weight:.4}")}</span>
                </li>
            }
        })
        .collect_view();

    view! { <ol class="words bars">{rows}</ol> }
}

#[component]
fn WordTable(words: Vec<(String, f64)>) -> impl IntoView {
    let rows = words
        .into_iter()
        .enumerate()
        .map(|(rank, (word, weight))| {
            view! {
                <tr>
                    <td class="num">{rank + 1}</td>
                    <td class="word">{word}</td>
                    <td class="num">{format!("{weight:.4}")}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <table class="words">
            <thead>
                <tr>
                    <th class="num">"#"</th>
                    <th>"Word"</th>
                    <th class="num">"Probability"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
