## semTools 0.5-6 reference values for product indicators of latent
## interactions (analysis/sem/indprod.py; issue 16): indProd() under each
## combination of its options, and the product-indicator latent-interaction
## model fitted by lavaan 0.6-14 on the double-mean-centred products.
##
## Run from the repository root:
##   Rscript tests/reference/semtools_indprod.R > tests/reference/semtools_indprod.Rout 2>&1
##
## Writes tests/reference/data/latent_interaction.csv (SYNTHETIC data, drawn
##        below with set.seed(20240616); the script then reads the CSV back so
##        that R and Python use the same numbers),
##        tests/reference/lavaan/indprod_<case>.csv (the whole data frame
##        indProd() returns: the data, then the product indicators),
##        tests/reference/lavaan/indprod_fit_<model>_estimates.csv
##        (parameterEstimates + std.all, format of lavaan_fit_extra.R),
##        tests/reference/lavaan/indprod_fit_<model>_fit.csv (measure,value:
##        all of fitMeasures()).
## R is used only to record reference values; it is never a runtime or test
## dependency.  Deterministic, a few seconds.
##
## The synthetic population (n = 300):
##   (X, Z) bivariate normal, means 0, variances 1, correlation 0.3;
##   Y = 0.4 X + 0.3 Z + 0.3 XZ + zeta, zeta ~ N(0, 0.5);
##   x_j = nu_j + lambda_j X + e_j (likewise z_j on Z, y_j on Y), lambda = (1, .8, .7),
##   nu = (3, 2.5, 3.2) for x, (2, 2.2, 1.8) for z, (3.5, 3, 2.6) for y,
##   residual variances (.4, .5, .5); values rounded to 3 decimals;
##   then 10 cells of x1..x3, z1..z3, y1..y3 set missing completely at random.
##
## indProd cases (var1 = x1..x3, var2 = z1..z3 unless stated)
##   default            match = TRUE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE
##   nomatch            match = FALSE
##   meanc_only         meanC = TRUE, doubleMC = FALSE
##   raw                meanC = FALSE, doubleMC = FALSE (plain products)
##   dmc_only           meanC = FALSE, doubleMC = TRUE
##   residual           residualC = TRUE, doubleMC = FALSE
##   residual_dmc       residualC = TRUE, doubleMC = TRUE
##   residual_nomatch   residualC = TRUE, match = FALSE (doubleMC = TRUE)
##   unequal_nomatch    var2 = z1, z2, match = FALSE
##   unequal_residual   var2 = z1, z2, match = FALSE, residualC = TRUE, doubleMC = FALSE
##   names              namesProd = c("p1", "p2", "p3")
## Latent-interaction models (sem(), lavaan's defaults: ML, listwise)
##   matched            Marsh, Wen & Hau (2004) matched pairs on the default
##                      (double-mean-centred) products: X =~ x1+x2+x3; Z =~ z1+z2+z3;
##                      XZ =~ x1.z1+x2.z2+x3.z3; Y =~ y1+y2+y3; Y ~ X + Z + XZ
##   allpairs           all nine double-mean-centred products (match = FALSE) on XZ,
##                      with the residual covariances of every two products that share
##                      a first-order indicator (18), as Lin et al. (2010)

suppressPackageStartupMessages({library(lavaan); library(semTools)})
source(file.path("tests", "reference", "_helpers.R"))  # write_tbl, num15, tidy_estimates
options(width = 120)
cat("R", R.version$major, ".", R.version$minor, " lavaan ", as.character(packageVersion("lavaan")),
    " semTools ", as.character(packageVersion("semTools")), "\n", sep = "")

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")

## ---- the synthetic data ---------------------------------------------------
set.seed(20240616)
n <- 300
XZ <- MASS::mvrnorm(n, mu = c(0, 0), Sigma = matrix(c(1, .3, .3, 1), 2))
X <- XZ[, 1]; Z <- XZ[, 2]
Y <- .4 * X + .3 * Z + .3 * X * Z + rnorm(n, sd = sqrt(.5))
lam <- c(1, .8, .7); theta <- c(.4, .5, .5)
ind <- function(f, nu) sapply(1:3, function(j) nu[j] + lam[j] * f + rnorm(n, sd = sqrt(theta[j])))
D <- data.frame(id = seq_len(n), ind(X, c(3, 2.5, 3.2)), ind(Z, c(2, 2.2, 1.8)), ind(Y, c(3.5, 3, 2.6)))
names(D) <- c("id", paste0("x", 1:3), paste0("z", 1:3), paste0("y", 1:3))
for (v in names(D)[-1]) D[[v]] <- round(D[[v]], 3)
cells <- sample(n * 9, 10)
for (k in cells) D[(k - 1) %% n + 1, 1 + (k - 1) %/% n + 1] <- NA
write_tbl(D, file.path(out_data, "latent_interaction.csv"))
D <- utils::read.csv(file.path(out_data, "latent_interaction.csv"))
cat("\nlatent_interaction.csv (synthetic):", nrow(D), "rows; missing cells per column:\n")
print(colSums(is.na(D)))
cat("rows with a missing value:", which(!complete.cases(D)), "\n")

## ---- indProd -------------------------------------------------------------
xs <- paste0("x", 1:3); zs <- paste0("z", 1:3)
record_ip <- function(case, out) {
  write_tbl(num15(out), file.path(out_res, paste0("indprod_", case, ".csv")))
  prods <- setdiff(names(out), names(D))
  cat("\n=====================================================================\n")
  cat("indProd case:", case, "\n")
  cat("product columns:", prods, "\n")
  cat("column means (non-missing):\n")
  print(signif(colMeans(out[prods], na.rm = TRUE), 10))
  cat("first two rows:\n")
  print(signif(out[1:2, prods], 10))
}
record_ip("default", indProd(D, xs, zs))
record_ip("nomatch", indProd(D, xs, zs, match = FALSE))
record_ip("meanc_only", indProd(D, xs, zs, meanC = TRUE, doubleMC = FALSE))
record_ip("raw", indProd(D, xs, zs, meanC = FALSE, doubleMC = FALSE))
record_ip("dmc_only", indProd(D, xs, zs, meanC = FALSE, doubleMC = TRUE))
record_ip("residual", indProd(D, xs, zs, residualC = TRUE, doubleMC = FALSE))
record_ip("residual_dmc", indProd(D, xs, zs, residualC = TRUE, doubleMC = TRUE))
record_ip("residual_nomatch", indProd(D, xs, zs, residualC = TRUE, match = FALSE))
record_ip("unequal_nomatch", indProd(D, xs, c("z1", "z2"), match = FALSE))
record_ip("unequal_residual", indProd(D, xs, c("z1", "z2"), match = FALSE, residualC = TRUE,
                                      doubleMC = FALSE))
record_ip("names", indProd(D, xs, zs, namesProd = c("p1", "p2", "p3")))
cat("\nmatch = TRUE with unequal lengths:\n")
print(tryCatch(indProd(D, xs, c("z1", "z2")), error = function(e) conditionMessage(e)))

## ---- the latent-interaction models -----------------------------------------
show <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq", "cfi", "tli", "rmsea",
          "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "logl", "aic", "bic")
record_fit <- function(fit, model) {
  fm <- fitMeasures(fit)
  write_tbl(num15(data.frame(measure = names(fm), value = as.numeric(fm))),
            file.path(out_res, paste0("indprod_fit_", model, "_fit.csv")))
  est <- tidy_estimates(fit)
  write_tbl(est, file.path(out_res, paste0("indprod_fit_", model, "_estimates.csv")))
  cat("\n=====================================================================\n")
  cat("model: indprod_fit_", model, "  converged: ", lavInspect(fit, "converged"), "\n", sep = "")
  print(signif(fm[show], 10))
  print(est[est$op %in% c("=~", "~"), c("lhs", "op", "rhs", "est", "se", "std_all")], digits = 7)
}

m_matched <- '
  X  =~ x1 + x2 + x3
  Z  =~ z1 + z2 + z3
  XZ =~ x1.z1 + x2.z2 + x3.z3
  Y  =~ y1 + y2 + y3
  Y  ~ X + Z + XZ
'
record_fit(sem(m_matched, data = indProd(D, xs, zs)), "matched")

pairs <- as.vector(t(outer(xs, zs, paste, sep = ".")))      # x1.z1, x1.z2, ..., x3.z3
shared <- character(0)
for (i in seq_along(pairs)) for (j in seq_along(pairs)) if (i < j) {
  a <- strsplit(pairs[i], ".", fixed = TRUE)[[1]]; b <- strsplit(pairs[j], ".", fixed = TRUE)[[1]]
  if (a[1] == b[1] || a[2] == b[2]) shared <- c(shared, paste(pairs[i], "~~", pairs[j]))
}
m_allpairs <- paste(c('X  =~ x1 + x2 + x3', 'Z  =~ z1 + z2 + z3',
                      paste('XZ =~', paste(pairs, collapse = ' + ')),
                      'Y  =~ y1 + y2 + y3', 'Y  ~ X + Z + XZ', shared), collapse = "\n")
cat("\nallpairs model:\n", m_allpairs, "\n", sep = "")
record_fit(sem(m_allpairs, data = indProd(D, xs, zs, match = FALSE)), "allpairs")

cat("\n")
sessionInfo()
