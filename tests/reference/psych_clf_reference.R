# Common-latent-factor reference (lavaan 0.6.14) for analysis.psychometrics.method_bias.
#   Rscript tests/reference/psych_clf_reference.R > tests/reference/psych_clf_reference.Rout 2>&1
suppressPackageStartupMessages(library(lavaan))
out <- "tests/reference/psych"
cat("R", R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
options(digits = 12)
model <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9 '
clf <- paste(model, '
  CMF =~ 1*x1 + 1*x2 + 1*x3 + 1*x4 + 1*x5 + 1*x6 + 1*x7 + 1*x8 + 1*x9
  CMF ~~ CMF
  CMF ~~ 0*visual
  CMF ~~ 0*textual
  CMF ~~ 0*speed ')
f0 <- cfa(model, data = HolzingerSwineford1939)
f1 <- cfa(clf, data = HolzingerSwineford1939)
print(lavTestLRT(f0, f1))
fm <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")
fits <- data.frame(model = c("cfa", "cfa + method factor"), rbind(fitMeasures(f0, fm), fitMeasures(f1, fm)))
print(fits)
write.csv(fits, file.path(out, "clf_fit_hs.csv"), row.names = FALSE)
s <- standardizedSolution(f1)
s <- s[s$op == "=~", c("lhs", "rhs", "est.std")]
print(s)
write.csv(s, file.path(out, "clf_std_hs.csv"), row.names = FALSE)
