## lavaan 0.6.14 reference values for observed product terms (x:w), moderated
## mediation, probing (simple slopes, Johnson-Neyman) and sampling weights
## (issue 16).
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_moderation.R > tests/reference/lavaan_moderation.Rout 2>&1
##
## Writes tests/reference/data/modmed.csv (simulated, seed 20240916: 400 rows in
##        40 clusters `cl` of unequal size, x, w, m, y, a sampling weight `wt`
##        that is constant within a cluster, and HS_weights: lavaan's
##        HolzingerSwineford1939 x1..x9, school, with a weight column `wt`),
##        tests/reference/lavaan/mod_<case>_estimates.csv (parameterEstimates
##        with std.all, the format of lavaan_fit_extra.R), mod_<case>_fit.csv
##        (all of fitMeasures), mod_cases.csv (the options lavaan used) and
##        mod_probe.csv (simple slopes and the Johnson-Neyman interval of the
##        `simple` case, computed from lavaan's estimates and vcov).
## R is used only to record reference values; it is never a runtime or test
## dependency.  Deterministic (set.seed below), a few seconds.
##
## Cases
##   simple        y ~ x + w + x:w on modmed (ML, fixed.x)
##   modmed        first-stage moderated mediation on modmed (ML) with the index
##                 of moderated mediation and conditional indirect effects
##   modmed_mlr    the same, estimator = "MLR"
##   wt_hs         HS three-factor CFA on HS_weights, sampling.weights = "wt"
##                 (lavaan switches ML to MLR)
##   wt_hs_group   the same with group = "school" (weights normalised over all groups)
##   wt_pd         PoliticalDemocracy SEM with a weight wt = 1 + (row %% 4) / 2
##   wt_modmed     the modmed model with sampling.weights = "wt"
##   wt_modmed_cluster  the same with cluster = "cl" (cluster-robust SEs and test)
##   wt_hs_fiml    HS CFA on HS_missing with the HS_weights weights, missing = "ml"
##   wt_hs_fiml_cluster  the same with cluster = "cl" (blocks of 10 consecutive rows,
##                 cl = (row - 1) %/% 10 + 1, as lavaan_fit_extra.R; not stored in the data)

suppressPackageStartupMessages(library(lavaan))
source(file.path("tests", "reference", "_helpers.R"))  # write_tbl, num15, tidy_estimates
options(width = 120)
cat("R", R.version$major, ".", R.version$minor, " lavaan ", as.character(packageVersion("lavaan")), "\n", sep = "")

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")


show <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "chisq.scaling.factor",
          "baseline.chisq", "cfi", "tli", "cfi.scaled", "cfi.robust", "tli.robust",
          "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "logl", "aic", "bic")

cases <- list()
record <- function(fit, case) {
  fm <- fitMeasures(fit)
  write_tbl(num15(data.frame(measure = names(fm), value = as.numeric(fm))),
            file.path(out_res, paste0("mod_", case, "_fit.csv")))
  write_tbl(tidy_estimates(fit), file.path(out_res, paste0("mod_", case, "_estimates.csv")))
  o <- lavInspect(fit, "options")
  row <- data.frame(case = case, converged = lavInspect(fit, "converged"),
                    nobs = sum(lavInspect(fit, "nobs")), ngroups = lavInspect(fit, "ngroups"),
                    estimator = o$estimator, se = o$se, test = paste(o$test, collapse = ";"),
                    information = paste(o$information, collapse = ";"),
                    missing = o$missing, meanstructure = o$meanstructure,
                    sampling_weights = paste(fit@Data@sampling.weights, collapse = ""),
                    npar = unname(fm["npar"]), df = unname(fm["df"]))
  cases[[case]] <<- row
  cat("\n=====================================================================\n")
  cat("case: mod_", case, "\n", sep = "")
  print(row[, -1], row.names = FALSE)
  print(signif(fm[intersect(show, names(fm))], 10))
  pe <- parameterEstimates(fit)
  print(pe[, intersect(c("lhs", "op", "rhs", "group", "label", "est", "se"), names(pe))], digits = 8)
  invisible(fit)
}

## ---- data ------------------------------------------------------------------
set.seed(20240916)
d <- sample(0:6, 20, replace = TRUE)
sizes <- sample(c(10 + d, 10 - d))               # 4 to 16 residents, 400 in all
stopifnot(sum(sizes) == 400, all(sizes > 0))
cl <- rep(seq_along(sizes), sizes)
n <- length(cl)
u <- rnorm(40, 0, 0.4)[cl]                       # community effect
x <- round(3 + 0.8 * rnorm(n) + u, 3)            # Likert-like means, not centred
w <- round(2 + 0.7 * rnorm(n) + 0.5 * u, 3)
m <- round(0.5 + 0.40 * x + 0.20 * w + 0.25 * (x - 3) * (w - 2) + rnorm(n, 0, 0.8), 3)
y <- round(1 + 0.35 * m + 0.10 * x + 0.15 * w + rnorm(n, 0, 0.9), 3)
wt <- round((40 * sizes / 400)[cl] * exp(rnorm(40, 0, 0.3))[cl], 4)  # design weight per cluster
MM <- data.frame(cl = cl, x = x, w = w, m = m, y = y, wt = wt)
write_tbl(MM, file.path(out_data, "modmed.csv"))
MM <- utils::read.csv(file.path(out_data, "modmed.csv"))

HS <- utils::read.csv(file.path(out_data, "HolzingerSwineford1939.csv"))
HSW <- HS[, c(paste0("x", 1:9), "school")]
HSW$wt <- round(0.5 + (HS$ageyr - 11) * 0.3 + (HS$sex == 2) * 0.4 + (seq_len(nrow(HS)) %% 3) / 4, 4)
stopifnot(all(HSW$wt > 0))
write_tbl(HSW, file.path(out_data, "HS_weights.csv"))
HSW <- utils::read.csv(file.path(out_data, "HS_weights.csv"))
HSm <- utils::read.csv(file.path(out_data, "HS_missing.csv"))
HSm$wt <- HSW$wt
PD <- utils::read.csv(file.path(out_data, "PoliticalDemocracy.csv"))
PD$wt <- 1 + (seq_len(nrow(PD)) %% 4) / 2

## ---- models ------------------------------------------------------------------
simple <- ' y ~ b1*x + b2*w + b3*x:w '
modmed <- '
  m ~ a1*x + a2*w + a3*x:w
  y ~ cp*x + b*m + w
  imm    := a3*b
  ind_lo := (a1 + a3*1.3)*b
  ind_mi := (a1 + a3*2.0)*b
  ind_hi := (a1 + a3*2.7)*b
'
hs <- ' visual  =~ x1 + x2 + x3
        textual =~ x4 + x5 + x6
        speed   =~ x7 + x8 + x9 '
pd <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'

fit_simple <- record(sem(simple, data = MM), "simple")
record(sem(modmed, data = MM), "modmed")
record(sem(modmed, data = MM, estimator = "MLR"), "modmed_mlr")
record(cfa(hs, data = HSW, sampling.weights = "wt"), "wt_hs")
record(cfa(hs, data = HSW, sampling.weights = "wt", group = "school"), "wt_hs_group")
record(sem(pd, data = PD, sampling.weights = "wt"), "wt_pd")
record(sem(modmed, data = MM, sampling.weights = "wt"), "wt_modmed")
record(sem(modmed, data = MM, sampling.weights = "wt", cluster = "cl"), "wt_modmed_cluster")
record(cfa(hs, data = HSm, sampling.weights = "wt", missing = "ml"), "wt_hs_fiml")
HSm$cl <- (seq_len(nrow(HSm)) - 1L) %/% 10L + 1L
record(cfa(hs, data = HSm, sampling.weights = "wt", missing = "ml", cluster = "cl"), "wt_hs_fiml_cluster")

## ---- probing the simple case: slopes of x at values of w, Johnson-Neyman ---
est <- coef(fit_simple)
V <- vcov(fit_simple)
b1 <- est[["b1"]]; b3 <- est[["b3"]]
v11 <- V["b1", "b1"]; v33 <- V["b3", "b3"]; v13 <- V["b1", "b3"]
at <- c(1.3, 2.0, 2.7, mean(MM$w) - sd(MM$w), mean(MM$w), mean(MM$w) + sd(MM$w))
slope <- b1 + b3 * at
se <- sqrt(v11 + 2 * at * v13 + at^2 * v33)
z <- qnorm(0.975)
probe <- data.frame(w = at, slope = slope, se = se, z = slope / se,
                    pvalue = 2 * pnorm(-abs(slope / se)),
                    ci_lower = slope - z * se, ci_upper = slope + z * se)
## Johnson-Neyman: (b1 + b3 w)^2 = z^2 (v11 + 2 w v13 + w^2 v33)
qa <- b3^2 - z^2 * v33; qb <- 2 * (b1 * b3 - z^2 * v13); qc <- b1^2 - z^2 * v11
disc <- qb^2 - 4 * qa * qc
jn <- if (disc >= 0) sort(c((-qb - sqrt(disc)) / (2 * qa), (-qb + sqrt(disc)) / (2 * qa))) else c(NA, NA)
probe$jn_lower <- jn[1]; probe$jn_upper <- jn[2]
write_tbl(num15(probe), file.path(out_res, "mod_probe.csv"))
cat("\nprobe (simple case)\n"); print(probe, digits = 10)
cat("Johnson-Neyman bounds:", format(jn, digits = 12), " (a =", signif(qa, 6), ")\n")

write_tbl(do.call(rbind, cases), file.path(out_res, "mod_cases.csv"))
cat("\n"); print(sessionInfo())
