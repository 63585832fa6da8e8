/* placeholder */
typedef int ms_placeholder_http_api;
