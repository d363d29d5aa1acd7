<?php
/**
 * Runs the plugin under php-cli with the few WordPress functions it calls stubbed, then prints what it did as
 * JSON: the webhook requests it sent (url, headers, exact body), the panel's HTML and the feed item's extra tags.
 * argv[1]: a JSON scenario {"posts": {id: {status, meta}}, "events": [[hook, id, old_status], ...]}.
 */

define('ABSPATH', __DIR__ . '/');
define('SYNDICATOR_URL', getenv('SYNDICATOR_URL'));
define('SYNDICATOR_SECRET', getenv('SYNDICATOR_SECRET'));
define('SYNDICATOR_FEED', getenv('SYNDICATOR_FEED'));

$GLOBALS['scenario'] = json_decode($argv[1], true);
$GLOBALS['sent'] = array();
$GLOBALS['hooks'] = array();
$GLOBALS['registered'] = array();

function add_action($hook, $callback, $priority = 10, $args = 1) { $GLOBALS['hooks'][$hook] = $callback; }
function apply_filters($hook, $value) { return $value; }
function register_post_meta($type, $key, $args) { $GLOBALS['registered'][$key] = $args['show_in_rest']; return true; }
function get_post_meta($id, $key, $single) { return $GLOBALS['scenario']['posts'][$id]['meta'][$key] ?? ''; }
function wp_json_encode($data) { return json_encode($data); }
function wp_generate_uuid4() { return sprintf('%08x-0000-4000-8000-%012x', mt_rand(), mt_rand()); }
function get_permalink($post) { return 'https://www.example.org/en/2026/12/01/story-' . $post->ID . '/'; }
function wp_remote_post($url, $args) { $GLOBALS['sent'][] = array('url' => $url, 'args' => $args); return array(); }
function wp_is_post_revision($id) { return false; }
function wp_is_post_autosave($id) { return false; }
function get_the_ID() { return $GLOBALS['current'] ?? 0; }
function current_user_can($cap, $id) { return true; }
function __($text, $domain = '') { return $text; }
function esc_html__($text, $domain = '') { return htmlspecialchars($text, ENT_QUOTES); }
function esc_attr__($text, $domain = '') { return htmlspecialchars($text, ENT_QUOTES); }
function esc_html($text) { return htmlspecialchars($text, ENT_QUOTES); }
function esc_attr($text) { return htmlspecialchars($text, ENT_QUOTES); }
function esc_textarea($text) { return htmlspecialchars($text, ENT_QUOTES); }
function checked($a, $b, $echo) { return $a === $b ? ' checked="checked"' : ''; }
function wp_nonce_field($action, $name) { echo '<input type="hidden" name="' . $name . '">'; }
function add_meta_box(...$args) { $GLOBALS['boxes'][] = $args; }
function plugins_url($path, $file) { return 'https://www.example.org/wp-content/plugins/syndicator/' . $path; }
function wp_enqueue_script(...$args) { $GLOBALS['scripts'][] = $args; }
function wp_add_inline_script(...$args) { $GLOBALS['inline'][] = $args; }

function post($id, $status) { return (object) array('ID' => (int) $id, 'post_type' => 'post', 'post_status' => $status); }
function get_post($id) { return post($id, $GLOBALS['scenario']['posts'][$id]['status']); }

require dirname(__DIR__, 3) . '/deploy/wordpress/syndicator/syndicator.php';

call_user_func($GLOBALS['hooks']['init']);
$out = array('registered' => $GLOBALS['registered'], 'panel' => '', 'feed' => array());
foreach ($GLOBALS['scenario']['events'] as $event) {
    list($hook, $id, $old) = $event;
    $now = post($id, $GLOBALS['scenario']['posts'][$id]['status'] ?? 'publish');
    if ($hook === 'save') {
        call_user_func($GLOBALS['hooks']['wp_after_insert_post'], $id, $now, $old !== null, $old ? post($id, $old) : null);
    } elseif ($hook === 'delete') {
        call_user_func($GLOBALS['hooks']['before_delete_post'], $id, $now);
    } elseif ($hook === 'panel') {
        ob_start();
        syndicator_render_panel($now);
        $out['panel'] = ob_get_clean();
    } elseif ($hook === 'editor') {
        call_user_func($GLOBALS['hooks']['add_meta_boxes']);
        call_user_func($GLOBALS['hooks']['enqueue_block_editor_assets']);
        $out['editor'] = array('boxes' => $GLOBALS['boxes'], 'scripts' => $GLOBALS['scripts'],
                               'inline' => $GLOBALS['inline']);
    } elseif ($hook === 'feed') {
        $GLOBALS['current'] = $id;
        ob_start();
        call_user_func($GLOBALS['hooks']['rss2_item']);
        $out['feed'][$id] = ob_get_clean();
    }
}
$out['sent'] = $GLOBALS['sent'];
echo json_encode($out);
