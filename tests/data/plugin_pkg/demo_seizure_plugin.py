"""Two seizure-bench methods, one entry point each: functions returning adapters, so that the
libraries are imported only when a method is used."""

from benchmark import BraindecodeAdapter, SklearnAdapter


def logreg():
    """Standardised log band power -> logistic regression, as a scikit-learn Pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500, class_weight="balanced"))
    return SklearnAdapter(pipeline, representation="bandpower", name="demo_logreg", tasks=("detection",))


def shallow():
    """braindecode's Shallow ConvNet on raw windows, trained from scratch (a small one in the smoke budget)."""
    from braindecode.models import ShallowFBCSPNet

    return BraindecodeAdapter(
        ShallowFBCSPNet,
        name="demo_shallow",
        tasks=("detection",),
        n_filters_time=8,
        n_filters_spat=8,
        smoke={"epochs": 1, "max_windows_per_epoch": 256},
    )
