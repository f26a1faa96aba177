"""Reference compound scores of vaderSentiment 3.3.2 (Hutto & Gilbert 2014) for the
sentences cxray's VADER is tested on.

    pip install vaderSentiment==3.3.2
    python3 crates/core/tests/it/vader/reference.py > crates/core/tests/it/vader/reference.ndjson

One JSON object per line: the sentence, its set (`published`: the examples of the
package's own demo; `rules`: sentences written here for each rule; `random`: generated
from lexicon words, boosters, negations, "but", capitals, punctuation and emoji with a
fixed seed) and the reference's compound score (rounded to 4 decimals, as it returns it).
"""

import json
import random

import vaderSentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

assert vaderSentiment.__name__ and SentimentIntensityAnalyzer

# The examples printed by vaderSentiment.py's own demo (its __main__ block).
PUBLISHED = [
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "It was one of the worst movies I've seen, despite good reviews.",
    "Unbelievably bad acting!!",
    "Poor direction.",
    "VERY poor production.",
    "The movie was bad.",
    "Very bad movie.",
    "VERY BAD movie!",
    "balloons", "cake", "candles", "happy birthday", "friends", "laughing", "smiling", "party",
    "riot", "fire", "fight", "blood", "mob", "war", "police", "tear gas",
]

# Sentences written here, one or more per rule of the paper and the reference.
RULES = [
    # negation: a negation word up to three words before, contractions with n't
    "The crew was not helpful.",
    "The crew wasn't helpful at all.",
    "The seat isnt comfortable.",
    "I never felt the staff were friendly.",
    "Nothing about the lounge was nice.",
    "The food was never so good.",
    "The food was never this good!",
    "Without doubt the best airline.",
    "No problem at all, thanks.",
    "No good, no bad.",
    "There was no delay or no fuss.",
    "no",
    "Not unhappy with the service.",
    "Hardly a great experience, not a terrible one either.",
    # "but": before it halved, after it one and a half times
    "The flight was great but the food was awful.",
    "Friendly staff, but the delay was terrible and the seat was bad.",
    "Good good good but bad bad.",
    "Nice but nice but nice.",
    "but it was good",
    "It was good but",
    "Great great great, BUT terrible.",
    # boosters and dampeners, their distance, in capitals
    "The staff were extremely helpful.",
    "The staff were very very helpful.",
    "The service was somewhat disappointing.",
    "It was kind of rude.",
    "It was sort of fine.",
    "The lounge was kinda ok.",
    "The gate agent was EXTREMELY rude.",
    "Incredibly bad service, barely acceptable.",
    "the check-in was just enough good",
    # ALL CAPS emphasis: only when some words are not in capitals
    "The delay was HORRIBLE.",
    "THE DELAY WAS HORRIBLE.",
    "The crew was GREAT and the food was OK.",
    # punctuation emphasis
    "Great flight!",
    "Great flight!!",
    "Great flight!!!!!!",
    "Terrible delay!!!",
    "Why was it late??",
    "Why was it so late????",
    "Is this good?",
    "Bad service?!?!",
    # emoticons and emoji
    "Lost my bag :(",
    "Thanks :-)",
    "smooth boarding 😀",
    "delayed again 😡😡",
    "great😀crew",
    "🙂",
    "Love it ❤",
    # idioms and special cases
    "The new lounge is the bomb.",
    "Yeah right, on time.",
    "That delay was the kiss of death.",
    "The dessert was to die for.",
    "We waited at the bus stop.",
    "The pilot is a bad ass.",
    "At least the crew was friendly.",
    "The very least they could do is apologise.",
    "the least helpful staff",
    # kind of as a phrase
    "kind of",
    "It is kind of",
    # mixed, messy and edge cases
    "",
    "   ",
    ".",
    "!!!",
    "??",
    "Good.Bad.",
    "good, bad... ugly!",
    "I'm happy :D but :( later",
    "the the the",
    "Sehr gut, danke!",
    "Das war schlecht.",
    "Muy mal servicio.",
    "GOOD",
    "Good",
    "gOOD",
    "A HAPPY customer",
    "HAPPY",
    "ok ok OK",
    "Delivery was late, staff rude, never again!",
    "Check-in was quick and easy; the crew were lovely.",
    "Baggage lost for 3 days. Nobody called back. Very disappointed.",
    "Fine.",
    "Not bad, not great.",
    "I don't like it, I love it!",
    "The app crashed but the call centre fixed it quickly.",
    "Seat 12A was broken and nobody cared",
    "Thanks!!! :)",
    "worst. flight. ever.",
    "'good' \"bad\" (nice) [awful] {great}",
    "😍😍😍 best crew",
    "\u00a0good\u00a0",
    "tab\tseparated\tgood",
    "line\nbreak\ngood",
]

WORDS = [
    "good", "bad", "great", "terrible", "nice", "awful", "happy", "sad", "love",
    "hate", "friendly", "rude", "late", "delay", "helpful", "comfortable", "broken",
    "lost", "excellent", "poor", "disappointed", "smooth", "quick", "slow", "dirty",
    "clean", "the", "flight", "crew", "seat", "food", "staff", "gate", "bag", "was",
    "is", "and", "a", "of", "no", "not", "never", "isn't", "without", "doubt", "least",
    "at", "so", "this", "kind", "sort", "very", "extremely", "slightly", "barely",
    "really", "but", "BUT", "or", "nor", "lol", ":)", ":(", "😀", "😡", "💘",
]
EMPHASIS = ["", "", "", "!", "!!", "!!!", "?", "??", "????", ".", ",", "..."]


def random_sentences(n, seed=18):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 12)):
            w = rng.choice(WORDS)
            if rng.random() < 0.12:
                w = w.upper()
            words.append(w + rng.choice(EMPHASIS) if rng.random() < 0.2 else w)
        out.append(" ".join(words))
    return out


def main():
    analyzer = SentimentIntensityAnalyzer()
    sets = [("published", PUBLISHED), ("rules", RULES), ("random", random_sentences(3000))]
    for name, sentences in sets:
        for s in sentences:
            compound = analyzer.polarity_scores(s)["compound"]
            print(json.dumps({"set": name, "text": s, "compound": compound}, ensure_ascii=False))


if __name__ == "__main__":
    main()
