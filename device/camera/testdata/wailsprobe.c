// wailsprobe loads a page the way Wails v2 does on Linux: from a "wails"
// custom URI scheme (wails://wails/) in a WebKitGTK web view with hardware
// acceleration off. The page is argv[1]. It prints the document title once
// the title starts with "done" (or after 30 s) and exits. Used by
// TestPreviewInWailsWebView to check that a wails:// page can show the
// loopback MJPEG stream and read the events stream.
#include <stdio.h>
#include <string.h>
#include <webkit2/webkit2.h>

static const char *page;

static void serve(WebKitURISchemeRequest *req, gpointer data) {
	GInputStream *s = g_memory_input_stream_new_from_data(g_strdup(page), (gssize)strlen(page), g_free);
	webkit_uri_scheme_request_finish(req, s, (gint64)strlen(page), "text/html");
	g_object_unref(s);
}

static void title_changed(WebKitWebView *v, GParamSpec *p, gpointer d) {
	const char *t = webkit_web_view_get_title(v);
	if (t && g_str_has_prefix(t, "done")) {
		printf("%s\n", t);
		fflush(stdout);
		gtk_main_quit();
	}
}

static gboolean give_up(gpointer d) {
	printf("timeout\n");
	gtk_main_quit();
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: wailsprobe HTML\n");
		return 2;
	}
	gtk_init(&argc, &argv);
	page = argv[1];
	WebKitWebContext *ctx = webkit_web_context_get_default();
	webkit_web_context_register_uri_scheme(ctx, "wails", serve, NULL, NULL);
	GtkWidget *win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_default_size(GTK_WINDOW(win), 800, 600);
	WebKitWebView *view = WEBKIT_WEB_VIEW(webkit_web_view_new_with_context(ctx));
	webkit_settings_set_hardware_acceleration_policy(webkit_web_view_get_settings(view), WEBKIT_HARDWARE_ACCELERATION_POLICY_NEVER);
	gtk_container_add(GTK_CONTAINER(win), GTK_WIDGET(view));
	g_signal_connect(view, "notify::title", G_CALLBACK(title_changed), NULL);
	webkit_web_view_load_uri(view, "wails://wails/");
	gtk_widget_show_all(win);
	g_timeout_add_seconds(30, give_up, NULL);
	gtk_main();
	return 0;
}
