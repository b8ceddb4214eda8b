// The outbox as the service tests read it back: every queued mail, oldest
// first, with its text whole and its body after the headers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/state_database.hpp"

namespace dirproxy::testing {

struct QueuedMail {
  std::string template_name;
  std::string recipient;
  std::string state;
  std::string message;  // the whole RFC 5322 text
  std::string body;     // after the headers, without the final line end
  std::int64_t created_at = 0;
};

inline std::vector<QueuedMail> outbox_rows(StateDatabase& database) {
  auto lease = database.acquire();
  auto query = lease.prepare("SELECT template, recipient, state, message, created_at FROM outbox ORDER BY id");
  if (!query) throw std::runtime_error(query.error().message);
  std::vector<QueuedMail> mails;
  while (*query->step()) {
    QueuedMail mail;
    mail.template_name = query->column_text(0);
    mail.recipient = query->column_text(1);
    mail.state = query->column_text(2);
    mail.message = query->column_text(3);
    mail.body = mail.message.substr(mail.message.find("\r\n\r\n") + 4);
    if (mail.body.ends_with("\r\n")) mail.body.resize(mail.body.size() - 2);
    mail.created_at = query->column_int64(4);
    mails.push_back(std::move(mail));
  }
  return mails;
}

}  // namespace dirproxy::testing
