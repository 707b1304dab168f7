# Standard errors of standardized estimates (lavaan 0.6.14 standardizedSolution, delta
# method) for analysis.psychometrics.validity.standardized_solution.
#   Rscript tests/reference/psych_stdse_reference.R > tests/reference/psych_stdse_reference.Rout 2>&1
suppressPackageStartupMessages(library(lavaan))
out <- "tests/reference/psych"
cat("R", R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
options(digits = 12)
model <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9 '
fit <- cfa(model, data = HolzingerSwineford1939)
s <- standardizedSolution(fit, type = "std.all")
print(s)
write.csv(s[, c("lhs", "op", "rhs", "est.std", "se", "z", "pvalue", "ci.lower", "ci.upper")],
          file.path(out, "std_se_hs.csv"), row.names = FALSE)
