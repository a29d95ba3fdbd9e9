#include "result_payload.h"

#include <fmt/format.h>

#include <array>
#include <iterator>
#include <utility>

#include "base/time_format.h"

namespace pa::bench {
namespace {

struct StepTemplate {
  const char* name;
  const char* method;
  const char* url;
};

// A checkout journey through a shop, the kind of transaction a robot measures.
constexpr std::array<StepTemplate, 10> kSteps = {{
    {"Главная страница", "GET", "https://shop.example.ru/"},
    {"Поиск товара «ноутбук»", "GET", "https://shop.example.ru/search?q=%D0%BD%D0%BE%D1%83%D1%82"},
    {"Карточка товара", "GET", "https://shop.example.ru/catalog/laptops/item-184467"},
    {"Добавление в корзину", "POST", "https://shop.example.ru/api/cart/items"},
    {"Корзина", "GET", "https://shop.example.ru/cart"},
    {"Вход в личный кабинет", "POST", "https://id.example.ru/oauth/token"},
    {"Адрес доставки", "POST", "https://shop.example.ru/api/checkout/address"},
    {"Выбор способа оплаты", "GET", "https://shop.example.ru/checkout/payment"},
    {"Оплата картой", "POST", "https://pay.example.ru/api/v2/payments"},
    {"Подтверждение заказа", "GET", "https://shop.example.ru/checkout/done"},
}};

// 40 transactions run by 25 robots in 4 locations: 1000 (transaction, robot) pairs, each
// reporting a run every few seconds at 2 000 results/s — a large installation's steady state.
constexpr int kTransactions = 40;
constexpr int kRobots = 25;
constexpr std::array<const char*, 4> kLocations = {"msk-dc1", "msk-dc2", "spb-dc1", "nsk-dc1"};

}  // namespace

ResultPayload::ResultPayload(std::string run_id_prefix, uint64_t seed)
    : prefix_(std::move(run_id_prefix)), rng_(seed) {}

double ResultPayload::Uniform(double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng_);
}

void ResultPayload::AppendStep(std::string& out, int index, int64_t start_ms, int64_t duration_ms,
                               bool failed) {
  const StepTemplate& step = kSteps[index];
  const double dns = Uniform(0.5, 4), connect = Uniform(2, 12), tls = Uniform(8, 30);
  const double ttfb = Uniform(40, duration_ms * 0.6), download = Uniform(5, 80);
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({}{{"index":{},"name":"{}","started_at":"{}","finished_at":"{}",)"
                 R"("duration_ms":{},"status":"{}",)",
                 index == 0 ? "" : ",", index, step.name, FormatRfc3339Ms(start_ms),
                 FormatRfc3339Ms(start_ms + duration_ms), duration_ms,
                 failed ? "error" : "success");
  if (failed) out += R"("error_message":"текст «Спасибо за заказ» не найден на странице",)";
  fmt::format_to(it,
                 R"("timings":{{"dns_ms":{:.1f},"connect_ms":{:.1f},"tls_ms":{:.1f},)"
                 R"("ttfb_ms":{:.1f},"download_ms":{:.1f}}},)"
                 R"("http":{{"method":"{}","url":"{}","status_code":200,"response_bytes":{}}})",
                 dns, connect, tls, ttfb, download, step.method, step.url,
                 static_cast<int64_t>(Uniform(800, 250000)));
  if (index == 0) {  // what an HTTP check adds about the site as a whole
    fmt::format_to(it, R"(,"details":{{"http_version":"h2","tls_days_left":{}}})",
                   static_cast<int>(Uniform(20, 90)));
  }
  out += '}';
}

std::string ResultPayload::Next(int64_t now_ms) {
  const int64_t n = counter_++;
  std::array<int64_t, kSteps.size()> durations;
  int64_t total = 0;
  for (auto& d : durations) {
    d = static_cast<int64_t>(Uniform(120, 1800));
    total += d;
  }
  // A run that has just finished, as robots upload them in steady state (a robot replaying a
  // backlog after an outage also sends each transaction's results in time order).
  const int64_t started = now_ms - total - static_cast<int64_t>(Uniform(50, 2000));
  const bool failed = n % 10 == 9;

  std::string out;
  out.reserve(4608);
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({{"run_id":"{}-{}","transaction_id":"shop.checkout.{}",)"
                 R"("transaction_name":"Оформление заказа в интернет-магазине",)"
                 R"("robot_id":"{}","location":"{}","started_at":"{}","finished_at":"{}",)"
                 R"("duration_ms":{},"status":"{}",)",
                 prefix_, n, n % kTransactions,
                 fmt::format("robot-{}-{:02}", kLocations[(n / kTransactions) % kRobots % 4],
                             (n / kTransactions) % kRobots),
                 kLocations[(n / kTransactions) % kRobots % 4], FormatRfc3339Ms(started),
                 FormatRfc3339Ms(started + total), total, failed ? "error" : "success");
  if (failed) {
    fmt::format_to(it,
                   R"("error":{{"step_index":{},"type":"assertion",)"
                   R"("message":"текст «Спасибо за заказ» не найден на странице"}},)",
                   kSteps.size() - 1);
  }
  out += R"("steps":[)";
  int64_t at = started;
  for (int i = 0; i < static_cast<int>(kSteps.size()); ++i) {
    AppendStep(out, i, at, durations[i], failed && i == static_cast<int>(kSteps.size()) - 1);
    at += durations[i];
  }
  out += R"(],"attributes":{"browser":"chromium","browser_version":"118.0.5993.88",)"
         R"("app":"shop","robot_version":"1.4.2"}})";
  return out;
}

}  // namespace pa::bench
