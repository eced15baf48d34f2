#include "wbclient/transfer/progress.hpp"

#include <algorithm>
#include <cstdio>

namespace wbclient {
namespace {

// Everything goes out in one write() so the line is never torn by other output.
void write_all(int fd, const std::string& text) {
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n <= 0) return;  // a progress bar never stops a transfer
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace

ProgressBar::ProgressBar(std::uint64_t total, std::uint64_t already, int fd)
    : total_(total),
      already_(already),
      done_(already),
      fd_(fd),
      enabled_(::isatty(fd) == 1),
      started_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
    if (drawn_) {
        draw();
        write_all(fd_, "\n");
    }
}

std::string ProgressBar::human(double bytes) {
    static constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
    return text;
}

void ProgressBar::update(std::uint64_t done) {
    done_ = std::min(done, total_);
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw();
}

void ProgressBar::clear() {
    if (!drawn_) return;
    write_all(fd_, "\r\x1b[K");  // back to the line's start, erase to its end
    drawn_ = false;
}

void ProgressBar::draw() {
    constexpr int width = 30;
    const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), ' ');
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const std::string rate =
        seconds > 0.01 ? human(static_cast<double>(done_ - already_) / seconds) + "/s" : "-- /s";
    char percent[8];
    std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
    write_all(fd_, "\r  " + human(static_cast<double>(done_)) + " / " + human(static_cast<double>(total_)) +
                       " [" + bar + "] " + percent + "  " + rate + "\x1b[K");
    drawn_ = true;
}

}  // namespace wbclient
