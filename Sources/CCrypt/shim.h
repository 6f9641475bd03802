// libcrypt (libxcrypt on Debian 12): crypt_rn verifies bcrypt ($2y$, $2b$) htpasswd entries.
#include <crypt.h>
