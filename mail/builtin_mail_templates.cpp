#include "mail/builtin_mail_templates.hpp"

#include <array>
#include <utility>

namespace dirproxy {
namespace {

constexpr std::string_view kSignupConfirm = R"(Subject: Confirm your email address for {{site_name}}

Hello {{display_name}},

Someone, probably you, signed up for the account "{{username}}" at
{{site_name}} with this email address. To confirm the address and create
the account, open this link:

{{link}}

The link can be used once and expires at {{expires}}.

If you did not sign up, ignore this message: no account will be created.
)";

constexpr std::string_view kInvitation = R"(Subject: You are invited to join {{site_name}}

Hello,

You are invited to join {{site_name}}. To create your account, open this
link:

{{link}}

{{message}}

The link expires at {{expires}}.

If you do not know why you received this invitation, ignore this message.
)";

constexpr std::string_view kNewUser = R"(Subject: Your new account at {{site_name}}

Hello {{display_name}},

An administrator created the account "{{username}}" for you at
{{site_name}}. To choose your password, open this link:

{{link}}

The link can be used once and expires at {{expires}}.
)";

constexpr std::string_view kPasswordReset = R"(Subject: Reset your password for {{site_name}}

Hello {{display_name}},

Someone, probably you, asked to reset the password of the account
"{{username}}" at {{site_name}}. To choose a new password, open this link:

{{link}}

The link can be used once and expires at {{expires}}.

If you did not ask for this, ignore this message: your password stays as
it is.
)";

constexpr std::string_view kAdminNewAccount = R"(Subject: New account {{username}} at {{site_name}}

Hello,

A new account was created at {{site_name}}:

  Username:     {{username}}
  Name:         {{display_name}}
  Email:        {{email}}

You receive this message because you administer {{site_name}}.
)";

constexpr std::string_view kAccessRequest = R"(Subject: Access request from {{display_name}} at {{site_name}}

Hello,

{{display_name}} <{{email}}> asks for access to {{site_name}}:

{{message}}

An administrator can approve or deny the request with dirproxyctl. You
receive this message because you administer {{site_name}}.
)";

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kTemplates = {{
    {"signup_confirm", kSignupConfirm},
    {"invitation", kInvitation},
    {"new_user", kNewUser},
    {"password_reset", kPasswordReset},
    {"admin_new_account", kAdminNewAccount},
    {"access_request", kAccessRequest},
}};

}  // namespace

std::string_view builtin_mail_template(std::string_view name) {
  for (const auto& [template_name, text] : kTemplates) {
    if (template_name == name) return text;
  }
  return {};
}

}  // namespace dirproxy
