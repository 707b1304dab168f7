# Omega / CR / AVE under FIML (semTools 0.5.6 uses lavaan's EM "sampstat" as S) for
# analysis.psychometrics.reliability.cfa_reliability on tests/reference/data/HS_missing.csv.
#   Rscript tests/reference/psych_fiml_reference.R > tests/reference/psych_fiml_reference.Rout 2>&1
suppressPackageStartupMessages({library(lavaan); library(semTools)})
out <- "tests/reference/psych"
cat("R", R.version.string, "lavaan", as.character(packageVersion("lavaan")),
    "semTools", as.character(packageVersion("semTools")), "\n")
options(digits = 12)
hsm <- read.csv("tests/reference/data/HS_missing.csv")
model <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9 '
fit <- cfa(model, data = hsm, missing = "ml")
print(fitMeasures(fit, c("chisq", "df", "ntotal")))
om <- compRelSEM(fit); cr <- compRelSEM(fit, obs.var = FALSE); av <- AVE(fit)
rel <- data.frame(factor = names(om), omega = unlist(om), cr = unlist(cr), ave = unlist(av[names(om)]))
print(rel)
write.csv(rel, file.path(out, "reliability_cfa_hs_fiml.csv"), row.names = FALSE)
