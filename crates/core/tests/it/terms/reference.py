"""Log-odds ratios with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
eqs. 16 and 18) for the small corpus of `terms.rs`, from its counts taken by hand.

    python3 crates/core/tests/it/terms/reference.py

Group A: "Bags lost. Lost bags again!", "Delay, delay and rude staff"
Group B: "Friendly staff", "Great crew, friendly staff"
Words after stop words ("again", "and"): A1 bags lost lost bags; A2 delay delay rude staff;
B1 friendly staff; B2 great crew friendly staff. N-grams of 1-3 words per comment: A1 4 + 3
+ 2, A2 4 + 3 + 2, B1 2 + 1, B2 4 + 3 + 2: n_a = 18, n_b = 12. Prior total alpha0 = all
terms (30), alpha_w = alpha0 * (y_a + y_b) / 30.
"""
import math

N_A, N_B = 18, 12
ALPHA0 = 30.0
# term: (count in A, count in B)
COUNTS = {"staff": (1, 2), "bag": (2, 0), "delay": (2, 0), "friend": (0, 2), "friend staff": (0, 2)}


def log_odds(y_a, y_b):
    alpha = ALPHA0 * (y_a + y_b) / (N_A + N_B)
    delta = math.log((y_a + alpha) / (N_A + ALPHA0 - y_a - alpha)) - math.log(
        (y_b + alpha) / (N_B + ALPHA0 - y_b - alpha)
    )
    z = delta / math.sqrt(1 / (y_a + alpha) + 1 / (y_b + alpha))
    return delta, z


for term, (a, b) in COUNTS.items():
    delta, z = log_odds(a, b)
    print(f'("{term}", {a}, {b}, {delta:.12f}, {z:.12f}),')
