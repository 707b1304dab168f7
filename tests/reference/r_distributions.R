## Reference values of R's pnorm, qnorm and pchisq (central and noncentral, both tails) for
## tests/sem/test_distributions.py: the distribution functions behind every p-value, Wald interval and
## RMSEA interval of a fit (analysis/sem/distributions.py).
## Run: Rscript tests/reference/r_distributions.R > tests/reference/r_distributions.Rout
## Writes tests/reference/r/distributions.csv (17 significant digits).
grid <- expand.grid(q = c(0.01, 0.5, 1, 19.6, 50, 98, 123.185, 300, 1349.694703, 1413.126376, 2000),
                    df = c(1, 2, 7.5, 20, 98, 1300),
                    ncp = c(0, 1e-6, 0.5, 3, 50, 500, 800, 3000))
grid$lower <- mapply(function(q, df, ncp) pchisq(q, df, ncp), grid$q, grid$df, grid$ncp)
grid$upper <- suppressWarnings(mapply(function(q, df, ncp) pchisq(q, df, ncp, lower.tail = FALSE),
                                      grid$q, grid$df, grid$ncp))
here <- if (dir.exists("tests/reference")) "tests/reference" else "."
dir.create(file.path(here, "r"), showWarnings = FALSE)
write.csv(format(grid, digits = 17), file.path(here, "r", "distributions.csv"), row.names = FALSE, quote = FALSE)
z <- c(-38, -10, -3.2, -1.959963984540054, -0.5, 0, 0.5, 1.96, 3.2, 8)
p <- c(1e-300, 1e-20, 1e-6, 0.025, 0.05, 0.3, 0.5, 0.95, 0.975, 0.999999)
write.csv(data.frame(z = format(z, digits = 17), pnorm = format(pnorm(z), digits = 17),
                     p = format(p, digits = 17), qnorm = format(qnorm(p), digits = 17)),
          file.path(here, "r", "normal.csv"), row.names = FALSE, quote = FALSE)
cat("R", R.version$major, R.version$minor, "\n")
cat("pchisq grid:", nrow(grid), "rows; pnorm/qnorm:", length(z), "values\n")
print(head(grid[grid$ncp > 0, ], 12), digits = 17)
