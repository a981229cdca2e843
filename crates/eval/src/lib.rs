//! Evaluation of anomaly rankings: ROC/AUC, F-beta, confusion matrices, Mann-Whitney U, the study's A/B/C protocol and its report.
