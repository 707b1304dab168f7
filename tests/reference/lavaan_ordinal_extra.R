# Reference values for the ordinal (polychoric / DWLS / WLSMV) part of the SEM core.
#
# Run from the repository root:
#   Rscript tests/reference/lavaan_ordinal_extra.R > tests/reference/lavaan_ordinal_extra.Rout 2>&1
# Writes tests/reference/lavaan/ordinal_*.csv. Every file is read by
# tests/sem/test_ordinal_*.py; the .Rout beside this script is the printed record.
suppressPackageStartupMessages(library(lavaan))
cat("R:", R.version.string, "\n")
cat("lavaan:", as.character(packageVersion("lavaan")), "\n")
out <- "tests/reference/lavaan"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wcsv <- function(x, name) {
  write.csv(x, file.path(out, name), row.names = FALSE, na = "")
}

## ---- case 1: Holzinger-Swineford x1..x9 cut into 2..5 ordered categories
HS <- HolzingerSwineford1939
ncat <- c(x1 = 3, x2 = 4, x3 = 5, x4 = 3, x5 = 4, x6 = 5, x7 = 2, x8 = 3, x9 = 4)
cutq <- function(x, k) {
  br <- quantile(x, probs = seq(0, 1, length.out = k + 1))
  br[1] <- -Inf; br[k + 1] <- Inf
  as.integer(cut(x, breaks = unique(br)))
}
D <- data.frame(lapply(names(ncat), function(v) cutq(HS[[v]], ncat[[v]])))
names(D) <- names(ncat)
D$school <- as.character(HS$school)
wcsv(D, "ordinal_hs_data.csv")
print(sapply(D[names(ncat)], table))
ov <- names(ncat)

hs.model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '

dump_fit <- function(fit, prefix, sampstat = TRUE) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE)
  pe <- pe[, intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z",
                         "pvalue", "ci.lower", "ci.upper", "std.all"), names(pe))]
  print(pe, digits = 7)
  wcsv(pe, paste0(prefix, "_estimates.csv"))
  fm <- fitMeasures(fit)
  fm <- data.frame(measure = names(fm), value = as.numeric(fm))
  print(fm, digits = 10)
  wcsv(fm, paste0(prefix, "_fit.csv"))
  if (sampstat) {
    ss <- lavInspect(fit, "sampstat")
    th <- ss$th
    thr <- data.frame(name = names(th), est = as.numeric(th))
    print(thr, digits = 10)
    wcsv(thr, paste0(prefix, "_thresholds.csv"))
    R <- ss$cov
    Rd <- data.frame(var = rownames(R), unclass(R))
    print(Rd, digits = 10)
    wcsv(Rd, paste0(prefix, "_polychoric.csv"))
    G <- lavInspect(fit, "gamma")
    Gd <- data.frame(name = rownames(G), unclass(G))
    wcsv(Gd, paste0(prefix, "_gamma.csv"))
    cat("Gamma diagonal:\n"); print(diag(G), digits = 10)
    V <- lavInspect(fit, "wls.v")
    cat("WLS.V diagonal:\n"); print(diag(V), digits = 10)
    wcsv(data.frame(name = rownames(G), gamma_diag = diag(G), wls_v_diag = diag(V)),
         paste0(prefix, "_wls_v.csv"))
  }
  invisible(pe)
}

cat("\n==== case 1: HS CFA, WLSMV ====\n")
fit1 <- cfa(hs.model, data = D, ordered = ov, estimator = "WLSMV")
dump_fit(fit1, "ordinal_hs_wlsmv")
mi1 <- modindices(fit1)
print(mi1[order(-mi1$mi), ][1:10, ])
wcsv(mi1[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")],
     "ordinal_hs_wlsmv_modindices.csv")
vc <- lavInspect(fit1, "vcov")
wcsv(data.frame(name = rownames(vc), unclass(vc)), "ordinal_hs_wlsmv_vcov.csv")

cat("\n==== case 2: HS CFA, DWLS (standard se, standard test) ====\n")
fit2 <- cfa(hs.model, data = D, ordered = ov, estimator = "DWLS")
dump_fit(fit2, "ordinal_hs_dwls", sampstat = FALSE)

cat("\n==== case 3: HS SEM with regressions and a residual covariance, WLSMV ====\n")
sem.model <- ' visual  =~ x1 + x2 + x3
               textual =~ x4 + x5 + x6
               speed   =~ x7 + x8 + x9
               textual ~ a*visual
               speed ~ b*textual + visual
               x2 ~~ x3
               ab := a*b '
fit3 <- sem(sem.model, data = D, ordered = ov, estimator = "WLSMV")
dump_fit(fit3, "ordinal_hs_sem_wlsmv", sampstat = FALSE)

cat("\n==== case 4: std.lv = TRUE, WLSMV ====\n")
fit4 <- cfa(hs.model, data = D, ordered = ov, estimator = "WLSMV", std.lv = TRUE)
dump_fit(fit4, "ordinal_hs_stdlv_wlsmv", sampstat = FALSE)

cat("\n==== case 6: two groups (school), WLSMV ====\n")
fit6 <- cfa(hs.model, data = D, ordered = ov, estimator = "WLSMV", group = "school")
dump_fit(fit6, "ordinal_hs_groups_wlsmv", sampstat = FALSE)

cat("\n==== case 7: two groups, equal loadings, WLSMV ====\n")
fit7 <- cfa(hs.model, data = D, ordered = ov, estimator = "WLSMV", group = "school",
            group.equal = "loadings")
dump_fit(fit7, "ordinal_hs_groups_loadings_wlsmv", sampstat = FALSE)

cat("\n==== case 8: missing values, missing = 'pairwise', WLSMV ====\n")
# deterministic holes: x2, x5, x8 missing in every 7th, 11th, 13th row; x3 when x1 == 3 and row even
M <- D
r <- seq_len(nrow(M))
M$x2[r %% 7 == 0] <- NA
M$x5[r %% 11 == 0] <- NA
M$x8[r %% 13 == 0] <- NA
M$x3[M$x1 == 3 & r %% 2 == 0] <- NA
print(colSums(is.na(M)))
wcsv(M, "ordinal_hs_missing_data.csv")
fit8 <- cfa(hs.model, data = M, ordered = ov, estimator = "WLSMV", missing = "pairwise")
cat("nobs:", lavInspect(fit8, "nobs"), "\n")
dump_fit(fit8, "ordinal_hs_pairwise_wlsmv")

## ---- case 5: sparse tables (empty cells) and a 2x2 table with one empty cell
cat("\n==== case 5: sparse five-point items, N = 80 ====\n")
set.seed(20240601)
n <- 80
f <- rnorm(n)
mk <- function(lam, th) {
  ystar <- lam * f + sqrt(1 - lam^2) * rnorm(n)
  as.integer(cut(ystar, c(-Inf, th, Inf)))
}
S <- data.frame(
  y1 = mk(0.8, c(-1.6, -0.6, 0.4, 1.4)),
  y2 = mk(0.7, c(-1.4, -0.4, 0.6, 1.8)),
  y3 = mk(0.6, c(-0.9, 0.3, 1.2)),
  y4 = mk(0.9, c(-1.2, 0.0, 1.0, 1.9)),
  b1 = mk(0.9, 0.5),
  b2 = NA)
# b2: a binary item whose 2x2 table with b1 has exactly one empty cell
b2.star <- mk(0.6, 0.0)
S$b2 <- ifelse(S$b1 == 1L, b2.star, 2L)
print(sapply(S, table))
print(table(S$b1, S$b2))
wcsv(S, "ordinal_sparse_data.csv")
fit5 <- cfa(' f =~ y1 + y2 + y3 + y4 + b1 + b2 ', data = S, ordered = names(S),
            estimator = "WLSMV")
print(lavInspect(fit5, "zero.cell.tables"))
dump_fit(fit5, "ordinal_sparse_wlsmv")
sessionInfo()
