"""Which entries explain a result: the measures a test, regression or model report shows,
mapped to entry ids, in this one table (issue 13, "What does this mean?").

The mapping reads the result's own text rather than a list each analysis keeps: what the user
sees is exactly what gets explained, and an analysis that changes its wording or adds a measure
needs no second edit elsewhere (a new name only needs a rule here). Column names (in
`` `code` ``) and the reproduce line are left out, so a column called "recall" explains
nothing. Rules are tried in order and the first to claim a stretch of words keeps it
("D'Agostino-Pearson" is a normality test, not a Pearson correlation).
"""

from __future__ import annotations

import re

from statbot.kb.words import words

# (pattern over the folded words of the text, entry id): the more specific first.
RULES: tuple[tuple[str, str], ...] = (
    (r"welch (?:s )?(?:one way )?anova|anova welch", "welch-anova"),
    (r"welch (?:s )?(?:two sample )?t(?: test)?", "welch-t-test"),
    (r"paired t(?: test)?", "paired-t-test"),
    (r"one sample t(?: test)?", "one-sample-t-test"),
    (r"(?:student s |independent (?:samples )?|two sample )t(?: test)?", "independent-t-test"),
    (r"mann whitney(?: u)?(?: test)?", "mann-whitney-u"),
    (r"wilcoxon(?: signed rank)?(?: test)?", "wilcoxon-signed-rank"),
    (r"kruskal wallis(?: h)?(?: test)?", "kruskal-wallis"),
    (r"games howell", "games-howell"),
    (r"tukey(?: s)?(?: hsd)?", "tukey-hsd"),
    (r"(?:one way )?anova", "one-way-anova"),
    (r"fisher s exact(?: test)?|fisher exact", "fishers-exact-test"),
    (r"goodness of fit", "chi-square-goodness-of-fit"),
    (r"chi square(?: test)?(?: of independence)?|chi2", "chi-square-test-independence"),
    (r"expected (?:cell )?counts?", "expected-counts"),
    (r"shapiro wilk", "shapiro-wilk"),
    (r"d agostino(?: pearson)?|normality", "normality-assumption"),
    (r"levene(?: s)?(?: test)?(?: median| mean)?", "levene-test"),
    (r"equal variances?|homogeneity of variances?", "homogeneity-of-variance"),
    (r"breusch pagan", "breusch-pagan-test"),
    (r"heterosc[a-z]*|heterosk[a-z]*", "heteroscedasticity"),
    (r"cohen s d(?: z)?|hedges g", "cohens-d"),
    (r"cramer s v", "cramers-v"),
    (r"(?:partial )?eta squared|eta2|omega squared", "eta-squared"),
    (r"spearman(?: s)?(?: rho)?", "spearman-correlation"),
    (r"kendall(?: s)?(?: tau)?", "kendall-tau"),
    (r"pearson(?: s)?(?: correlation| r)?|\br = ", "pearson-correlation"),
    (r"bonferroni", "bonferroni-correction"),
    (r"holm", "holm-correction"),
    (r"adjusted r2|adjusted r squared", "adjusted-r-squared"),
    (r"(?:mcfadden )?pseudo r2|pseudo r squared", "pseudo-r-squared"),
    (r"r2|r squared", "r-squared"),
    (r"odds ratios?", "odds-ratio"),
    (r"log odds", "log-odds"),
    (r"logistic regression|logit", "logistic-regression"),
    (r"linear regression|ols", "linear-regression"),
    (r"variance inflation(?: factors?)?|vif", "vif"),
    (r"multicollinear[a-z]*|collinear[a-z]*", "multicollinearity"),
    (r"condition number|ill conditioned|ill conditioning", "ill-conditioning"),
    (r"separation", "separation"),
    (r"cook s distance|cook s d", "cooks-distance"),
    (r"leverage", "leverage"),
    (r"residuals?", "residuals"),
    (r"q q plot|qq plot", "qq-plot"),
    (r"coefficients?", "coefficient"),
    (r"intercept|const", "intercept"),
    (r"f test|f statistic|overall f", "f-test-regression"),
    (r"confidence intervals?|\d+ ci", "confidence-interval"),
    (r"prediction intervals?", "prediction-interval"),
    (r"standard errors?", "standard-error"),
    (r"effect size", "effect-size"),
    (r"p values?|\bp\b", "p-value"),
    (r"balanced accuracy", "balanced-accuracy"),
    (r"accuracy", "accuracy"),
    (r"f1(?: macro| weighted| score)?", "f1-score"),
    (r"precision", "precision"),
    (r"recall|sensitivity", "recall"),
    (r"roc auc(?: ovr)?|\bauc\b", "roc-auc"),
    (r"(?:neg )?log loss|cross entropy", "log-loss"),
    (r"rmse|root mean squared error", "rmse"),
    (r"mape|mean absolute percentage error", "mape"),
    (r"mae|mean absolute error", "mae"),
    (r"confusion matrix", "confusion-matrix"),
    (r"cross validat[a-z]*|\d+ fold", "cross-validation"),
    (r"holdout|held out", "holdout"),
    (r"permutation importances?", "permutation-importance"),
    (r"(?:feature )?importances?", "feature-importance"),
    (r"leaderboard", "leaderboard"),
    (r"baseline", "baseline-model"),
    (r"random forest", "random-forest"),
    (r"extra trees", "extra-trees"),
    (r"gradient boosting|hist gradient boosting", "gradient-boosting"),
    (r"decision tree", "decision-tree"),
    (r"k nearest neighbou?rs|knn", "k-nearest-neighbors"),
    (r"support vector|svm|svc|svr", "support-vector-machine"),
    (r"ridge", "ridge-regression"),
    (r"lasso", "lasso-regression"),
    (r"naive bayes", "naive-bayes"),
    (r"skew(?:ness)?", "skewness"),
    (r"kurtosis", "kurtosis"),
    (r"median", "median"),
    (r"quartiles?|iqr|q1|q3", "quartiles-iqr"),
    (r"standard deviation|sd|std", "standard-deviation"),
    (r"variance", "variance"),
    (r"mean", "mean"),
    (r"missing", "missing-data"),
    (r"outliers?", "outlier"),
    (r"distribution of", "histogram"),  # the chart sent as "Distribution of <column>"
)
_COMPILED = tuple((re.compile(rf"(?<![a-z0-9])(?:{p})(?![a-z0-9])"), i) for p, i in RULES)
_CODE = re.compile(r"`[^`]*`")
_REPRODUCE = re.compile(r"(?im)^reproduce with:.*$")


def entries_in(text: str, limit: int = 8) -> list[str]:
    """The entries for the measures ``text`` shows, in the order it shows them."""
    plain = " ".join(words(_REPRODUCE.sub(" ", _CODE.sub(" ", text))))
    claimed: list[tuple[int, int]] = []
    found: dict[str, int] = {}
    for pattern, entry_id in _COMPILED:
        for match in pattern.finditer(plain):
            start, end = match.span()
            if any(start < b and a < end for a, b in claimed):
                continue
            claimed.append((start, end))
            found[entry_id] = min(found.get(entry_id, start), start)
    return sorted(found, key=lambda i: found[i])[:limit]
