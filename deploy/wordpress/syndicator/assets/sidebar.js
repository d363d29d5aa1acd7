/**
 * The "Social media" panel in the block editor's document sidebar: the same post meta as the classic meta box
 * (syndicator_no_social, syndicator_skip_<platform>, syndicator_text_<platform>), saved with the post through the
 * REST API (the meta is registered with show_in_rest). Plain wp.* globals, no build step.
 */
(function (wp, config) {
    if (!wp || !wp.plugins || !wp.editPost || !wp.data || !wp.components || !wp.element) {
        return;
    }
    var el = wp.element.createElement;
    var __ = wp.i18n ? wp.i18n.__ : function (text) { return text; };
    var CheckboxControl = wp.components.CheckboxControl;
    var TextareaControl = wp.components.TextareaControl;
    var PanelDocumentSetting = wp.editPost.PluginDocumentSettingPanel;

    function SocialPanel() {
        var meta = wp.data.useSelect(function (select) {
            return select('core/editor').getEditedPostAttribute('meta') || {};
        }, []);
        var postType = wp.data.useSelect(function (select) {
            return select('core/editor').getCurrentPostType();
        }, []);
        var editPost = wp.data.useDispatch('core/editor').editPost;
        if (postType !== 'post') {
            return null;
        }
        function set(key, value) {
            var change = {};
            change[key] = value;
            editPost({ meta: change });
        }
        var children = [
            el(CheckboxControl, {
                key: 'syndicator_no_social',
                label: __("Don't post this on social media", 'syndicator'),
                checked: !!meta.syndicator_no_social,
                onChange: function (value) { set('syndicator_no_social', value); }
            })
        ];
        if (!meta.syndicator_no_social) {
            Object.keys(config.platforms).forEach(function (platform) {
                var skip = 'syndicator_skip_' + platform;
                var text = 'syndicator_text_' + platform;
                children.push(el('fieldset', { key: platform, style: { marginBottom: '1em' } },
                    el('legend', null, el('strong', null, config.platforms[platform])),
                    el(CheckboxControl, {
                        label: __('Not on this platform', 'syndicator'),
                        checked: !!meta[skip],
                        onChange: function (value) { set(skip, value); }
                    }),
                    meta[skip] ? null : el(TextareaControl, {
                        label: __('Own text (optional): replaces title and summary', 'syndicator'),
                        value: meta[text] || '',
                        onChange: function (value) { set(text, value); }
                    })
                ));
            });
        }
        return el(PanelDocumentSetting, { name: 'syndicator', title: __('Social media (Syndicator)', 'syndicator') },
            children);
    }

    wp.plugins.registerPlugin('syndicator', { render: SocialPanel, icon: 'share' });
})(window.wp, window.syndicatorSidebar || { platforms: {} });
