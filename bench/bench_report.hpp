// What a benchmark run found: the table (text), the CSV, the chart (gnuplot) and the goals.
#pragma once

#include "bench_cases.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bench {

/// One suite timing (`ctest ...` or the book build): wall seconds and whether it passed.
struct SuiteTime {
    std::string what;
    std::string command;
    double seconds = 0;
    int exit_code = 0;
    std::string failures;  ///< what failed, and the log to read, when exit_code != 0
};

struct BenchReport {
    std::string header;  ///< date, versions, the workload
    std::vector<Measurement> measurements;
    std::optional<HeadsResult> heads;
    std::optional<BigLayerResult> big_layer;
    std::optional<MirrorResult> mirror;
    std::optional<ReplicasResult> replicas;
    std::vector<SuiteTime> suite_times;
    bool quick = false;
};

/// The table, the HEAD cost, peak RSS on the big layer, the pulls through a mirror, the
/// replicas on Ceph RGW, the suite times and every goal marked met or missed with its numbers.
/// Parts the run left out (bench_driver --only) are left out here too.
std::string format_report(const BenchReport& report);

/// results.csv: one row per case and tool, every repetition summarised.
std::string format_csv(const BenchReport& report);

/// Writes chart.dat and chart.gp into `folder` and runs gnuplot for chart.svg (and chart.png
/// unless `svg_only`). Throws with gnuplot's first error line when it fails.
void draw_chart(const BenchReport& report, const std::filesystem::path& folder, bool svg_only);

}  // namespace bench
