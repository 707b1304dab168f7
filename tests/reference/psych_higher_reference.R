# Higher-order omega reference (semTools 0.5.6 compRelSEM(higher = ...)) for
# analysis.psychometrics.reliability.higher_order_reliability.
#   Rscript tests/reference/psych_higher_reference.R > tests/reference/psych_higher_reference.Rout 2>&1
suppressPackageStartupMessages({library(lavaan); library(semTools)})
out <- "tests/reference/psych"
cat("R", R.version.string, "lavaan", as.character(packageVersion("lavaan")),
    "semTools", as.character(packageVersion("semTools")), "\n")
options(digits = 12)
model <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9
           g =~ visual + textual + speed '
fit <- cfa(model, data = HolzingerSwineford1939)
print(fitMeasures(fit, c("chisq", "df")))
om <- compRelSEM(fit, higher = "g")
print(om)
om2 <- compRelSEM(fit, higher = "g", obs.var = FALSE)
print(om2)
res <- data.frame(factor = names(om), omega = unlist(om), cr = unlist(om2))
write.csv(res, file.path(out, "higher_order_hs.csv"), row.names = FALSE)
