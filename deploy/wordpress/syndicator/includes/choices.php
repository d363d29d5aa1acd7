<?php
/**
 * The editor's choices for a post, kept as post meta and shown to the REST API (show_in_rest), so the bot reads
 * them from /wp-json/wp/v2/posts/<id> as well as from the webhook's body:
 *   syndicator_no_social    bool    "don't post this"
 *   syndicator_skip_<p>     bool    not on platform <p>
 *   syndicator_text_<p>     string  this platform's own text instead of title and summary
 */

if (!defined('ABSPATH')) {
    exit;
}

/** Platform names as the bot knows them (a target's name works too); the `syndicator_platforms` filter adds more. */
function syndicator_platforms()
{
    $platforms = array(
        'x' => 'X',
        'facebook' => 'Facebook',
        'telegram' => 'Telegram',
        'whatsapp' => 'WhatsApp',
        'bluesky' => 'Bluesky',
        'mastodon' => 'Mastodon',
    );
    return apply_filters('syndicator_platforms', $platforms);
}

function syndicator_meta_keys()
{
    $keys = array('syndicator_no_social' => 'boolean');
    foreach (array_keys(syndicator_platforms()) as $platform) {
        $keys['syndicator_skip_' . $platform] = 'boolean';
        $keys['syndicator_text_' . $platform] = 'string';
    }
    return $keys;
}

function syndicator_register_meta()
{
    foreach (syndicator_meta_keys() as $key => $type) {
        register_post_meta('post', $key, array(
            'type' => $type,
            'single' => true,
            'show_in_rest' => true,
            'default' => $type === 'boolean' ? false : '',
            'sanitize_callback' => $type === 'boolean' ? 'rest_sanitize_boolean' : 'sanitize_textarea_field',
            'auth_callback' => function ($allowed, $meta_key, $post_id) {
                return current_user_can('edit_post', $post_id);
            },
        ));
    }
}

/** The post's choices as the webhook sends them: the same keys and values the REST API shows. */
function syndicator_choices($post_id)
{
    $choices = array();
    foreach (syndicator_meta_keys() as $key => $type) {
        $value = get_post_meta($post_id, $key, true);
        $choices[$key] = $type === 'boolean' ? (bool) $value : (string) $value;
    }
    return $choices;
}
