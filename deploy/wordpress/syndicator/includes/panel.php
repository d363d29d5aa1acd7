<?php
/**
 * The "Social media" panel in the post editor: in the block editor a document-sidebar panel (assets/sidebar.js,
 * saving the same meta through the REST API), in the classic editor this meta box.
 */

if (!defined('ABSPATH')) {
    exit;
}

function syndicator_add_panel()
{
    // __back_compat_meta_box: only the classic editor shows the box; the block editor has the sidebar panel
    add_meta_box('syndicator', __('Social media (Syndicator)', 'syndicator'), 'syndicator_render_panel', 'post', 'side',
        'default', array('__back_compat_meta_box' => true));
}

function syndicator_enqueue_sidebar()
{
    $deps = array('wp-plugins', 'wp-edit-post', 'wp-element', 'wp-components', 'wp-data', 'wp-i18n');
    wp_enqueue_script('syndicator-sidebar', plugins_url('assets/sidebar.js', SYNDICATOR_PLUGIN_FILE), $deps, '1.0.0', true);
    $config = array('platforms' => syndicator_platforms());
    wp_add_inline_script('syndicator-sidebar', 'window.syndicatorSidebar = ' . wp_json_encode($config) . ';', 'before');
}

function syndicator_render_panel($post)
{
    $choices = syndicator_choices($post->ID);
    wp_nonce_field('syndicator_panel', 'syndicator_panel_nonce');
    echo '<p><label><input type="checkbox" name="syndicator_no_social" value="1"'
        . checked($choices['syndicator_no_social'], true, false) . '> '
        . esc_html__("Don't post this on social media", 'syndicator') . '</label></p>';
    foreach (syndicator_platforms() as $platform => $label) {
        $skip = 'syndicator_skip_' . $platform;
        $text = 'syndicator_text_' . $platform;
        echo '<fieldset style="margin:0 0 1em"><legend><strong>' . esc_html($label) . '</strong></legend>';
        echo '<label><input type="checkbox" name="' . esc_attr($skip) . '" value="1"'
            . checked($choices[$skip], true, false) . '> ' . esc_html__('Not on this platform', 'syndicator')
            . '</label><br>';
        echo '<textarea name="' . esc_attr($text) . '" rows="3" style="width:100%" placeholder="'
            . esc_attr__('Own text (optional): replaces title and summary', 'syndicator') . '">'
            . esc_textarea($choices[$text]) . '</textarea></fieldset>';
    }
}

function syndicator_save_panel($post_id, $post)
{
    if (!isset($_POST['syndicator_panel_nonce'])
        || !wp_verify_nonce(sanitize_text_field(wp_unslash($_POST['syndicator_panel_nonce'])), 'syndicator_panel')
        || (defined('DOING_AUTOSAVE') && DOING_AUTOSAVE)
        || !current_user_can('edit_post', $post_id)) {
        return;
    }
    foreach (syndicator_meta_keys() as $key => $type) {
        if ($type === 'boolean') {
            update_post_meta($post_id, $key, !empty($_POST[$key]));
        } else {
            $value = isset($_POST[$key]) ? sanitize_textarea_field(wp_unslash($_POST[$key])) : '';
            update_post_meta($post_id, $key, $value);
        }
    }
}
